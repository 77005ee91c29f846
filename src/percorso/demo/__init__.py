"""Torrefazione Aurora S.r.l., a synthetic Italian coffee roaster whose customers travel every channel.

`generate` simulates people chunk by chunk (deterministic for a seed and a
size); `load` writes them into a Percorso home with the truth the identity
and lifecycle layers are measured against. docs/demo.md describes the
company, the event vocabulary and the identifier conventions.
"""
