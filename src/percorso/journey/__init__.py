"""The journey map as code: personas, phases, stages, touchpoints, integrations.

`model` reads and validates the YAML map, `predicates` is its safe rule
language, `lifecycle` computes stage and phase histories, `gaps` measures the
integration flows, `measure` fills the map with what customers did, `render`
draws it, `versions` keeps every applied map in the operational database.
"""
