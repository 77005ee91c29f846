"""Percorso: customer journey management on one store of events."""

__version__ = "0.1.0"
