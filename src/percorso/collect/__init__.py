"""Collection: the Segment-compatible HTTP collector, its durable ingest log, importers."""
