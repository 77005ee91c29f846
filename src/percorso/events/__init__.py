"""The event model: Segment-spec messages, normalisation, channel and device classification."""
