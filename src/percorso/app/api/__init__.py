"""The HTTP side: `create_app(settings)` builds the collector, the API and the dashboard."""
