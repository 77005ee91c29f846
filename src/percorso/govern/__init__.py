"""Governance: keys, users and roles, consent, erasure, retention, audit."""
