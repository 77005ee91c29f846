"""Interfaces: the HTTP API and dashboard (FastAPI), the command line (Typer)."""
