"""The journey map file: a table of broken maps and the exact message each gets, and the
default map against the demo company."""

from __future__ import annotations

from pathlib import Path

import pytest

from percorso.journey.compile import EventCompiler
from percorso.journey.model import JourneyMap, default_map_text, load_map, load_map_text
from percorso.journey.nodes import MAX_LENGTH
from percorso.warehouse.store import Warehouse
from percorso.yaml_models import YamlFileError

GOOD = """\
name: Mappa minima
phases:
  - id: discover
    label: {it: Scoperta, en: Discovery}
  - id: buy
    label: {it: Acquisto, en: Purchase}
personas:
  - id: business
    label: {it: Aziende, en: Businesses}
    when: exists(traits.company)
stages:
  - id: suspect
    label: {it: Sospetto, en: Suspect}
    when: "true"
  - id: customer
    label: {it: Cliente, en: Customer}
    phase: buy
    when: ever(touchpoint("order"))
transitions:
  suspect: [customer]
systems:
  - id: website
    label: {it: Sito, en: Website}
    match: source_kind == "web"
  - id: erp
    label: {it: Gestionale, en: ERP}
    match: source_kind == "erp"
touchpoints:
  - id: visit
    label: {it: Visita, en: Visit}
    phase: discover
    channel: direct
    department: marketing
    system: website
    match: type == "page"
  - id: order
    label: {it: Ordine, en: Order}
    phase: buy
    channel: erp
    department: sales
    system: erp
    match: event == "order_placed"
    personas: [business]
integrations:
  - from: website
    to: erp
    population: ever(touchpoint("visit"))
kpis:
  - {kpi: profiles, phase: buy}
  - {kpi: events, touchpoint: order}
"""

PHASES = """\
phases:
  - id: discover
    label: {it: Scoperta, en: Discovery}
  - id: buy
    label: {it: Acquisto, en: Purchase}
"""
STAGES = """\
stages:
  - id: suspect
    label: {it: Sospetto, en: Suspect}
    when: "true"
  - id: customer
    label: {it: Cliente, en: Customer}
    phase: buy
    when: ever(touchpoint("order"))
"""
ORDER_MATCH = 'match: event == "order_placed"'
CUSTOMER_WHEN = 'when: ever(touchpoint("order"))'
DEPARTMENTS = "marketing, sales, service, administration"
CHANNELS = (
    "social, search, email, paid, referral, direct, form, crm, erp, support, survey, "
    "in_person, phone, word_of_mouth"
)
NOT_AN_ID = 'write lower-case letters, digits and _, starting with a letter, e.g. "new_customer"'


def edited(*changes: tuple[str, str]) -> str:
    """GOOD with each `old` (found exactly once) replaced by `new`."""
    text = GOOD
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} is in the good map {text.count(old)} times"
        text = text.replace(old, new)
    return text


BAD_MAPS: list[tuple[str, str, str]] = [
    # keys
    (
        "unknown key",
        edited(("name:", "nmae:")),
        'line 1, key "nmae": unknown key; did you mean "name"?',
    ),
    (
        "unknown key in a touchpoint",
        edited(("    department: sales", "    departement: sales")),
        'line 40, key "touchpoints.1.departement": unknown key; did you mean "department"?',
    ),
    (
        "unknown key without a near one",
        edited(("    personas: [business]", "    owner: anna")),
        'line 43, key "touchpoints.1.owner": unknown key; allowed here: id, label, phase, channel, device, department, system, match, personas',
    ),
    ("missing phases", edited((PHASES, "")), 'line 1, key "phases": is missing'),
    (
        "a persona called none",
        edited(("  - id: business", "  - id: none")),
        'line 8, key "personas.0.id": "none" is reserved for profiles no rule matches: choose another id',
    ),
    ("missing name", edited(("name: Mappa minima\n", "")), 'line 1, key "name": is missing'),
    (
        "no phases",
        edited((PHASES, "phases: []\n")),
        'line 2, key "phases": List should have at least 1 item after validation, not 0',
    ),
    (
        "no stages",
        edited((STAGES, "stages: []\n")),
        'line 11, key "stages": List should have at least 1 item after validation, not 0',
    ),
    (
        "empty name",
        edited(("name: Mappa minima", "name: ''")),
        'line 1, key "name": String should have at least 1 character',
    ),
    (
        "a label in one language",
        edited(("label: {it: Scoperta, en: Discovery}", "label: {it: Scoperta}")),
        'line 4, key "phases.0.label.en": is missing',
    ),
    (
        "a label that is not bilingual",
        edited(("label: {it: Scoperta, en: Discovery}", "label: Scoperta")),
        'line 4, key "phases.0.label": Input should be a valid dictionary or instance of Bilingual',
    ),
    # ids
    (
        "capital in an id",
        edited(("  - id: discover", "  - id: Discover")),
        f'line 3, key "phases.0.id": "Discover" is not an id: {NOT_AN_ID}',
    ),
    (
        "dash in an id",
        edited(("  - id: visit", "  - id: web-visit")),
        f'line 29, key "touchpoints.0.id": "web-visit" is not an id: {NOT_AN_ID}',
    ),
    (
        "id starting with a digit",
        edited(("  - id: suspect", "  - id: 1suspect")),
        f'line 12, key "stages.0.id": "1suspect" is not an id: {NOT_AN_ID}',
    ),
    (
        "id too long",
        edited(("  - id: buy", "  - id: " + "b" * 65)),
        'line 5, key "phases.1.id": String should have at most 64 characters',
    ),
    (
        "same phase twice",
        edited(("  - id: buy\n", "  - id: discover\n")),
        'line 5, key "phases.1.id": "discover" is used twice in phases',
    ),
    (
        "same touchpoint twice",
        edited(("  - id: order\n", "  - id: visit\n")),
        'line 36, key "touchpoints.1.id": "visit" is used twice in touchpoints',
    ),
    (
        "same stage twice",
        edited(("  - id: customer\n", "  - id: suspect\n")),
        'line 15, key "stages.1.id": "suspect" is used twice in stages',
    ),
    # references, with the name that was meant
    (
        "touchpoint in an unknown phase",
        edited(("    phase: discover\n", "    phase: discovr\n")),
        'line 31, key "touchpoints.0.phase": "discovr" is not a phase of this map; did you mean "discover"? (phases: discover, buy)',
    ),
    (
        "touchpoint of an unknown system",
        edited(("    system: erp\n", "    system: erpp\n")),
        'line 41, key "touchpoints.1.system": "erpp" is not a system of this map; did you mean "erp"? (systems: website, erp)',
    ),
    (
        "touchpoint for an unknown persona",
        edited(("personas: [business]", "personas: [busines]")),
        'line 43, key "touchpoints.1.personas": "busines" is not a persona of this map; did you mean "business"? (personas: business)',
    ),
    (
        "touchpoint for a persona when there are none",
        edited(
            (
                "personas:\n  - id: business\n    label: {it: Aziende, en: Businesses}\n    when: exists(traits.company)\n",
                "",
            )
        ),
        'line 39, key "touchpoints.1.personas": "business" is not a persona of this map (personas: none are declared)',
    ),
    (
        "stage in an unknown phase",
        edited(("    phase: buy\n    when", "    phase: by\n    when")),
        'line 17, key "stages.1.phase": "by" is not a phase of this map; did you mean "buy"? (phases: discover, buy)',
    ),
    (
        "transition to an unknown stage",
        edited(("suspect: [customer]", "suspect: [custmer]")),
        'line 20, key "transitions.suspect": "custmer" is not a stage of this map; did you mean "customer"? (stages: suspect, customer)',
    ),
    (
        "transition from an unknown stage",
        edited(("suspect: [customer]", "suspet: [customer]")),
        'line 20, key "transitions.suspet": "suspet" is not a stage of this map; did you mean "suspect"? (stages: suspect, customer)',
    ),
    (
        "transitions not a list",
        edited(("suspect: [customer]", "suspect: customer")),
        'line 20, key "transitions.suspect": Input should be a valid list',
    ),
    (
        "integration from an unknown system",
        edited(("  - from: website", "  - from: webiste")),
        'line 45, key "integrations.0.from": "webiste" is not a system of this map; did you mean "website"? (systems: website, erp)',
    ),
    (
        "integration to an unknown system",
        edited(("    to: erp", "    to: crm")),
        'line 46, key "integrations.0.to": "crm" is not a system of this map (systems: website, erp)',
    ),
    # KPIs
    (
        "kpi with phase and touchpoint",
        edited(("{kpi: profiles, phase: buy}", "{kpi: profiles, phase: buy, touchpoint: order}")),
        'line 49, key "kpis.0": give either phase or touchpoint',
    ),
    (
        "kpi with neither",
        edited(("{kpi: profiles, phase: buy}", "{kpi: profiles}")),
        'line 49, key "kpis.0": give either phase or touchpoint',
    ),
    (
        "conversion on a touchpoint",
        edited(
            (
                "{kpi: events, touchpoint: order}",
                "{kpi: conversion_to_next_phase, touchpoint: order}",
            )
        ),
        'line 50, key "kpis.1.kpi": conversion_to_next_phase is measured per phase: give phase, not touchpoint',
    ),
    (
        "time in phase on a touchpoint",
        edited(("{kpi: events, touchpoint: order}", "{kpi: time_in_phase, touchpoint: order}")),
        'line 50, key "kpis.1.kpi": time_in_phase is measured per phase: give phase, not touchpoint',
    ),
    (
        "kpi of an unknown touchpoint",
        edited(("{kpi: events, touchpoint: order}", "{kpi: events, touchpoint: ordr}")),
        'line 50, key "kpis.1.touchpoint": "ordr" is not a touchpoint of this map; did you mean "order"? (touchpoints: visit, order)',
    ),
    (
        "kpi of an unknown phase",
        edited(("{kpi: profiles, phase: buy}", "{kpi: profiles, phase: purchase}")),
        'line 49, key "kpis.0.phase": "purchase" is not a phase of this map (phases: discover, buy)',
    ),
    (
        "unknown kpi",
        edited(("{kpi: events, touchpoint: order}", "{kpi: event, touchpoint: order}")),
        'line 50, key "kpis.1.kpi": "event" is not allowed; did you mean "events"? (allowed: profiles, events, conversion_to_next_phase, time_in_phase)',
    ),
    # closed sets
    (
        "department outside the set",
        edited(("department: sales", "department: vendite")),
        f'line 40, key "touchpoints.1.department": "vendite" is not allowed (allowed: {DEPARTMENTS})',
    ),
    (
        "misspelt department",
        edited(("department: sales", "department: sale")),
        f'line 40, key "touchpoints.1.department": "sale" is not allowed; did you mean "sales"? (allowed: {DEPARTMENTS})',
    ),
    (
        "channel outside the set",
        edited(("channel: erp", "channel: fax")),
        f'line 39, key "touchpoints.1.channel": "fax" is not allowed (allowed: {CHANNELS})',
    ),
    (
        "device outside the set",
        edited(("    system: erp\n", "    system: erp\n    device: watch\n")),
        'line 42, key "touchpoints.1.device": "watch" is not allowed (allowed: any, desktop, mobile, tablet)',
    ),
    (
        "bot is not a touchpoint's device",
        edited(("    system: erp\n", "    system: erp\n    device: bot\n")),
        'line 42, key "touchpoints.1.device": "bot" is not allowed (allowed: any, desktop, mobile, tablet)',
    ),
    # rules, named by their line
    (
        "bad rule in a touchpoint",
        edited((ORDER_MATCH, 'match: event = "order_placed"')),
        'line 42, key "touchpoints.1.match": cannot read the rule at character 7 (invalid syntax): write "==" to compare',
    ),
    (
        "typo in a touchpoint's field",
        edited((ORDER_MATCH, 'match: evnt == "order_placed"')),
        "line 42, key \"touchpoints.1.match\": 'evnt' is not a field at character 1; did you mean 'event'? "
        "(fields: event, type, source, source_kind, channel, device, anonymous_id, user_id, group_id, message_id, ts, properties, traits, context)",
    ),
    (
        "history in a touchpoint",
        edited((ORDER_MATCH, 'match: ever(event == "order_placed")')),
        'line 42, key "touchpoints.1.match": ever() looks at a whole history at character 1: it belongs in a stage, persona or integration rule, not in a rule about one event',
    ),
    (
        "one event in a stage",
        edited((CUSTOMER_WHEN, 'when: event == "order_placed"')),
        'line 18, key "stages.1.when": event is a field of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(event == "...")',
    ),
    (
        "a month in a stage",
        edited((CUSTOMER_WHEN, 'when: ever(touchpoint("order"), last="1mo")')),
        'line 18, key "stages.1.when": \'1mo\' is not a duration at character 32: write a number and a unit, such as "45m", "12h", "30d" or "8w" (months vary in length: use days)',
    ),
    (
        "one event in a persona",
        edited(("when: exists(traits.company)", 'when: channel == "email"')),
        'line 10, key "personas.0.when": channel is a field of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(channel == "...")',
    ),
    (
        "bare touchpoint in an integration",
        edited(('population: ever(touchpoint("visit"))', 'population: touchpoint("visit")')),
        'line 47, key "integrations.0.population": touchpoint() matches one event at character 1: in a profile rule write ever(touchpoint("...")) or count(touchpoint("...")) >= 2',
    ),
    (
        "a system matched on a history",
        edited(('match: source_kind == "erp"', 'match: ever(source_kind == "erp")')),
        'line 27, key "systems.1.match": ever() looks at a whole history at character 1: it belongs in a stage, persona or integration rule, not in a rule about one event',
    ),
    (
        "a rule that is a number",
        edited(('when: "true"', "when: 3")),
        'line 14, key "stages.0.when": Input should be a valid string',
    ),
    # touchpoint() references
    (
        "stage naming an unknown touchpoint",
        edited((CUSTOMER_WHEN, 'when: ever(touchpoint("ordr"))')),
        'line 18, key "stages.1.when": "ordr" is not a touchpoint of this map; did you mean "order"? (touchpoints: visit, order)',
    ),
    (
        "touchpoint naming an unknown touchpoint",
        edited((ORDER_MATCH, 'match: touchpoint("vist") and event == "order_placed"')),
        'line 42, key "touchpoints.1.match": "vist" is not a touchpoint of this map; did you mean "visit"? (touchpoints: visit, order)',
    ),
    (
        "integration naming an unknown touchpoint",
        edited(('population: ever(touchpoint("visit"))', 'population: ever(touchpoint("signup"))')),
        'line 47, key "integrations.0.population": "signup" is not a touchpoint of this map (touchpoints: visit, order)',
    ),
    (
        "touchpoint naming itself",
        edited((ORDER_MATCH, 'match: touchpoint("order") or event == "order_placed"')),
        'line 42, key "touchpoints.1.match": "order" refers to itself through touchpoint()',
    ),
    (
        "two touchpoints naming each other",
        edited(
            (ORDER_MATCH, 'match: touchpoint("visit")'),
            ('match: type == "page"', 'match: touchpoint("order")'),
        ),
        'line 35, key "touchpoints.0.match": "visit" refers to itself through touchpoint()',
    ),
    # not a map
    (
        "invalid YAML",
        edited(("name: Mappa minima", "name: [Mappa")),
        "line 2: not valid YAML (expected ',' or ']', but got ':')",
    ),
    (
        "bad indentation",
        edited(("  - id: buy\n", "  - id: buy\n bad: x\n")),
        "line 6: not valid YAML (expected <block end>, but found '<block mapping start>')",
    ),
    (
        "a list",
        "- name: Mappa\n- phases: []\n",
        "a journey map must be a mapping of keys to values",
    ),
    ("a word", "mappa", "a journey map must be a mapping of keys to values"),
    ("empty", "", "a journey map must be a mapping of keys to values"),
    ("only a comment", "# la mappa\n", "a journey map must be a mapping of keys to values"),
]


@pytest.mark.parametrize(
    ("text", "message"), [(t, m) for _, t, m in BAD_MAPS], ids=[n for n, _, _ in BAD_MAPS]
)
def test_a_bad_map_says_where_and_what(text: str, message: str) -> None:
    with pytest.raises(YamlFileError) as caught:
        load_map_text(text, "mappa.yaml")
    assert str(caught.value) == f"mappa.yaml: {message}"
    assert caught.value.label == "mappa.yaml"


def test_the_minimal_map_is_good() -> None:
    journey_map = load_map_text(GOOD, "mappa.yaml")
    assert [p.id for p in journey_map.phases] == ["discover", "buy"]
    assert [s.id for s in journey_map.stages] == ["suspect", "customer"]
    assert journey_map.allows("suspect", "customer")
    assert not journey_map.allows("customer", "suspect")
    assert journey_map.integrations[0].source == "website"
    assert journey_map.stage_rules["customer"].touchpoints == {"order"}


def test_a_yaml_boolean_is_a_rule() -> None:
    journey_map = load_map_text(edited(('when: "true"', "when: true")), "mappa.yaml")
    assert journey_map.stages[0].when == "true"
    assert str(journey_map.stage_rules["suspect"]) == "true"


def test_a_touchpoint_device_is_part_of_its_rule() -> None:
    journey_map = load_map_text(
        edited(("    system: erp\n", "    system: erp\n    device: mobile\n")), "mappa.yaml"
    )
    assert str(journey_map.touchpoint_rules["order"]) == (
        '(event == "order_placed") and device == "mobile"'
    )
    assert str(journey_map.touchpoint_rules["visit"]) == 'type == "page"'


def test_a_touchpoint_of_one_device_with_a_rule_at_the_length_limit() -> None:
    # The device is added to the parsed rule, not to its text: a rule the map
    # accepted cannot fail later for being too long.
    long_match = 'event == "order_placed" or ' * 73 + 'event == "order_placed"'
    assert 1990 <= len(long_match) <= MAX_LENGTH
    text = edited(
        ("    system: erp\n", "    system: erp\n    device: mobile\n"),
        ('match: event == "order_placed"', f"match: '{long_match}'"),
    )
    rule = load_map_text(text, "mappa.yaml").touchpoint_rules["order"]
    assert rule.text.endswith('and device == "mobile"')
    assert len(rule.text) > MAX_LENGTH


def test_a_rule_folded_over_lines_in_yaml() -> None:
    folded = edited(
        (
            CUSTOMER_WHEN,
            'when: >-\n      ever(touchpoint("order"))\n      and identified()',
        )
    )
    journey_map = load_map_text(folded, "mappa.yaml")
    assert str(journey_map.stage_rules["customer"]) == 'ever(touchpoint("order")) and identified()'


def test_load_map_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mappa.yaml"
    path.write_text(edited(("name:", "nmae:")), encoding="utf-8")
    with pytest.raises(YamlFileError) as caught:
        load_map(path)
    assert str(caught.value) == f'{path}: line 1, key "nmae": unknown key; did you mean "name"?'
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(YamlFileError) as caught:
        load_map(missing)
    assert str(caught.value) == f"{missing}: no such journey map file"
    path.write_bytes(b"name: \xff\xfe")
    with pytest.raises(YamlFileError, match="cannot be read as a journey map"):
        load_map(path)
    path.write_text(GOOD, encoding="utf-8")
    assert load_map(path) == load_map_text(GOOD, "other label")


# --- the default map -------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_map() -> JourneyMap:
    return load_map_text(default_map_text(), "default_map.yaml")


def test_the_default_map_loads(default_map: JourneyMap) -> None:
    assert [p.id for p in default_map.phases] == [
        "awareness",
        "consideration",
        "purchase",
        "retention",
        "advocacy",
    ]
    assert [s.id for s in default_map.stages] == [
        "suspect",
        "prospect",
        "lead",
        "customer",
        "advocate",
        "churned",
    ]
    assert default_map.stage_rules["suspect"].text == "true"
    # Every stage can be left and every stage but the first can be reached by design.
    reachable = {target for targets in default_map.transitions.values() for target in targets}
    assert reachable == {s.id for s in default_map.stages} - {"suspect"}
    assert set(default_map.transitions) == {s.id for s in default_map.stages}
    # Every phase has a touchpoint.
    assert {tp.phase for tp in default_map.touchpoints} == {p.id for p in default_map.phases}


# Touchpoints the demo company never generates an event for; a change here is a
# change of the demo or of the map, to be made on purpose. (`reviews` was one until
# the demo's survey tool invited promoters to review the shop.)
NO_DEMO_EVENTS: set[str] = set()


def test_every_default_touchpoint_and_system_has_demo_events_but_the_listed_ones(
    default_map: JourneyMap, demo_warehouse: Warehouse
) -> None:
    events = demo_warehouse.ibis.table("events")
    compiler = EventCompiler(events, default_map.touchpoint_rules)
    # A touchpoint and a system may share an id ("surveys"): name the counts apart.
    rules = {
        **{f"touchpoint {k}": v for k, v in default_map.touchpoint_rules.items()},
        **{f"system {k}": v for k, v in default_map.system_rules.items()},
    }
    counts = [
        compiler.condition(rule.node).sum().name(name)  # booleans add up as 1s
        for name, rule in rules.items()
    ]
    totals = demo_warehouse.to_arrow(events.aggregate(counts)).to_pylist()[0]
    touchpoints_without = {
        tp.id for tp in default_map.touchpoints if not totals[f"touchpoint {tp.id}"]
    }
    systems_without = {s.id for s in default_map.systems if not totals[f"system {s.id}"]}
    assert touchpoints_without == NO_DEMO_EVENTS, totals
    assert systems_without == set(), totals
    assert all(
        totals[f"touchpoint {tp}"] >= 5
        for tp in default_map.touchpoint_rules
        if tp not in NO_DEMO_EVENTS
    ), totals
