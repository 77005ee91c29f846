"""The structural diff of two journey maps: what `percorso map diff V1 V2` prints."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from percorso.journey.diff import Change, diff_maps

LABEL = {"it": "Scoperta", "en": "Discovery"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    (
        "nothing changed",
        {"name": "Ciclo", "phases": [{"id": "a"}]},
        {"name": "Ciclo", "phases": [{"id": "a"}]},
        [],
    ),
    ("both empty", {}, {}, []),
    (
        "name",
        {"name": "Ciclo 2024"},
        {"name": "Ciclo 2025"},
        ["~ name: 'Ciclo 2024' -> 'Ciclo 2025'"],
    ),
    ("name set", {}, {"name": "Ciclo"}, ["~ name: (none) -> 'Ciclo'"]),
    (
        "phase added at the end keeps the order",
        {"phases": [{"id": "discover"}, {"id": "buy"}]},
        {"phases": [{"id": "discover"}, {"id": "buy"}, {"id": "use"}]},
        ["+ phases.use"],
    ),
    (
        "phase order",
        {"phases": [{"id": "a"}, {"id": "b"}, {"id": "c"}]},
        {"phases": [{"id": "a"}, {"id": "c"}, {"id": "b"}]},
        ["~ phases: order changed: a,b,c -> a,c,b"],
    ),
    (
        "phase order among the phases both maps have",
        {"phases": [{"id": "a"}, {"id": "b"}, {"id": "c"}]},
        {"phases": [{"id": "c"}, {"id": "a"}, {"id": "d"}]},
        ["~ phases: order changed: a,c -> c,a", "- phases.b", "+ phases.d"],
    ),
    (
        "nested label",
        {"phases": [{"id": "discover", "label": LABEL}]},
        {"phases": [{"id": "discover", "label": {"it": "Scopri", "en": "Discovery"}}]},
        ["~ phases.discover.label.it: 'Scoperta' -> 'Scopri'"],
    ),
    (
        "label language added",
        {"personas": [{"id": "smb", "label": {"it": "PMI"}}]},
        {"personas": [{"id": "smb", "label": {"it": "PMI", "en": "SMB"}}]},
        ["~ personas.smb.label.en: (none) -> 'SMB'"],
    ),
    (
        "personas added and removed, sorted by id",
        {"personas": [{"id": "retail"}, {"id": "enterprise"}]},
        {"personas": [{"id": "smb"}, {"id": "enterprise"}, {"id": "agency"}]},
        ["+ personas.agency", "- personas.retail", "+ personas.smb"],
    ),
    (
        "stage removed, reordering stages is no change",
        {"stages": [{"id": "lead"}, {"id": "customer"}, {"id": "advocate"}]},
        {"stages": [{"id": "customer"}, {"id": "lead"}]},
        ["- stages.advocate"],
    ),
    (
        "stage rule and phase changed, fields sorted",
        {"stages": [{"id": "lead", "phase": "discover", "rule": "traits.email != null"}]},
        {
            "stages": [
                {"id": "lead", "phase": "consider", "rule": "traits.email != null and 1 == 1"}
            ]
        },
        [
            "~ stages.lead.phase: 'discover' -> 'consider'",
            "~ stages.lead.rule: 'traits.email != null' -> 'traits.email != null and 1 == 1'",
        ],
    ),
    (
        "transitions",
        {"transitions": {"suspect": ["lead"], "lead": ["customer", "lost"], "lost": []}},
        {
            "transitions": {
                "suspect": ["lead"],
                "lead": ["customer"],
                "customer": ["advocate"],
                "lost": None,
            }
        },
        ["+ transitions.customer->advocate", "- transitions.lead->lost"],
    ),
    (
        "touchpoint match",
        {"touchpoints": [{"id": "landing_form", "match": 'event == "a"'}]},
        {"touchpoints": [{"id": "landing_form", "match": 'event == "b"'}]},
        ["~ touchpoints.landing_form.match: 'event == \"a\"' -> 'event == \"b\"'"],
    ),
    (
        "touchpoint added, list field changed",
        {"touchpoints": [{"id": "landing_form", "systems": ["website"]}]},
        {
            "touchpoints": [
                {"id": "landing_form", "systems": ["website", "crm"]},
                {"id": "newsletter_signup", "phase": "discover"},
            ]
        },
        [
            "~ touchpoints.landing_form.systems: ['website'] -> ['website', 'crm']",
            "+ touchpoints.newsletter_signup",
        ],
    ),
    (
        "touchpoint field removed",
        {"touchpoints": [{"id": "chat", "channel": "chat", "department": "service"}]},
        {"touchpoints": [{"id": "chat", "channel": "chat"}]},
        ["~ touchpoints.chat.department: 'service' -> (none)"],
    ),
    (
        "systems",
        {"systems": [{"id": "crm", "label": {"it": "CRM", "en": "CRM"}}, {"id": "fax"}]},
        {"systems": [{"id": "crm", "label": {"it": "CRM Vendite", "en": "CRM"}}, {"id": "erp"}]},
        ["~ systems.crm.label.it: 'CRM' -> 'CRM Vendite'", "+ systems.erp", "- systems.fax"],
    ),
    (
        "integrations keyed by from and to",
        {
            "integrations": [
                {"from": "website", "to": "crm", "within_hours": 24},
                {"from": "crm", "to": "erp"},
            ]
        },
        {
            "integrations": [
                {"from": "crm", "to": "erp"},
                {"from": "website", "to": "crm", "within_hours": 2},
                {"from": "erp", "to": "helpdesk"},
            ]
        },
        ["+ integrations.erp->helpdesk", "~ integrations.website->crm.within_hours: 24 -> 2"],
    ),
    (
        "integration reversed is another flow",
        {"integrations": [{"from": "crm", "to": "mailer"}]},
        {"integrations": [{"from": "mailer", "to": "crm"}]},
        ["- integrations.crm->mailer", "+ integrations.mailer->crm"],
    ),
    (
        "kpis keyed by kpi and phase or touchpoint",
        {
            "kpis": [
                {"kpi": "conversion", "phase": "discover", "target": 0.3},
                {"kpi": "nps", "touchpoint": "chat"},
            ]
        },
        {
            "kpis": [
                {"kpi": "conversion", "phase": "discover", "target": 0.4},
                {"kpi": "conversion", "phase": "buy"},
                {"kpi": "nps", "phase": "use"},
            ]
        },
        [
            "+ kpis.conversion@phase:buy",
            "~ kpis.conversion@phase:discover.target: 0.3 -> 0.4",
            "+ kpis.nps@phase:use",
            "- kpis.nps@touchpoint:chat",
        ],
    ),
    (
        "a whole section appears",
        {},
        {"systems": [{"id": "crm"}, {"id": "website"}]},
        ["+ systems.crm", "+ systems.website"],
    ),
    (
        "a top-level key the diff does not know is still compared",
        {"identifiers": {"crm_id": {"pattern": "C[0-9]+"}}},
        {"identifiers": {"crm_id": {"pattern": "C[0-9]{6}"}}},
        ["~ identifiers.crm_id.pattern: 'C[0-9]+' -> 'C[0-9]{6}'"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [pytest.param(old, new, expected, id=name) for name, old, new, expected in CASES],
)
def test_diff_lines(old: dict[str, Any], new: dict[str, Any], expected: list[str]) -> None:
    diff = diff_maps(old, new)
    assert diff.lines() == expected
    assert diff.is_empty == (not expected)


OLD_MAP = """
name: Ciclo di vita cliente
phases:
  - id: discover
    label: {it: Scoperta, en: Discovery}
  - id: buy
    label: {it: Acquisto, en: Purchase}
  - id: use
    label: {it: Utilizzo, en: Use}
personas:
  - id: smb
    label: {it: PMI, en: SMB}
stages:
  - id: lead
    rule: 'traits.email != null'
  - id: customer
  - id: advocate
transitions:
  lead: [customer]
  customer: [advocate]
touchpoints:
  - id: landing_form
    phase: discover
    match: 'event == "a"'
systems:
  - id: website
  - id: crm
integrations:
  - {from: website, to: crm}
kpis:
  - {kpi: conversion, phase: discover}
"""

NEW_MAP = """
name: Ciclo di vita cliente 2
phases:
  - id: discover
    label: {it: Scopri, en: Discovery}
  - id: use
    label: {it: Utilizzo, en: Use}
  - id: buy
    label: {it: Acquisto, en: Purchase}
personas:
  - id: smb
    label: {it: PMI, en: SMB}
  - id: enterprise
stages:
  - id: lead
    rule: 'traits.email != null'
  - id: customer
transitions:
  lead: [customer]
touchpoints:
  - id: landing_form
    phase: discover
    match: 'event == "b"'
  - id: newsletter_signup
    phase: discover
systems:
  - id: website
  - id: crm
  - id: erp
integrations:
  - {from: website, to: crm}
  - {from: crm, to: erp}
kpis:
  - {kpi: conversion, phase: discover, target: 0.25}
"""


def test_a_realistic_map_lists_sections_in_map_order() -> None:
    diff = diff_maps(yaml.safe_load(OLD_MAP), yaml.safe_load(NEW_MAP))
    assert diff.lines() == [
        "~ name: 'Ciclo di vita cliente' -> 'Ciclo di vita cliente 2'",
        "~ phases: order changed: discover,buy,use -> discover,use,buy",
        "~ phases.discover.label.it: 'Scoperta' -> 'Scopri'",
        "+ personas.enterprise",
        "- stages.advocate",
        "- transitions.customer->advocate",
        "~ touchpoints.landing_form.match: 'event == \"a\"' -> 'event == \"b\"'",
        "+ touchpoints.newsletter_signup",
        "+ systems.erp",
        "+ integrations.crm->erp",
        "~ kpis.conversion@phase:discover.target: (none) -> 0.25",
    ]
    assert not diff.is_empty
    assert diff_maps(yaml.safe_load(NEW_MAP), yaml.safe_load(NEW_MAP)).is_empty


def test_changes_carry_the_values_for_json_output() -> None:
    diff = diff_maps(
        {"stages": [{"id": "lead"}, {"id": "advocate", "phase": "use"}]},
        {"stages": [{"id": "lead", "label": {"it": "Contatto", "en": "Lead"}}]},
    )
    assert diff.changes == [
        Change(
            section="stages",
            key="advocate",
            action="removed",
            old={"id": "advocate", "phase": "use"},
        ),
        Change(
            section="stages", key="lead", action="changed", field="label.en", old=None, new="Lead"
        ),
        Change(
            section="stages",
            key="lead",
            action="changed",
            field="label.it",
            old=None,
            new="Contatto",
        ),
    ]
    assert diff.model_dump()["changes"][0]["action"] == "removed"
