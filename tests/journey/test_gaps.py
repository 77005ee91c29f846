"""Integration coverage on hand-built people: who each flow should carry, who arrives, how fast."""

from __future__ import annotations

from datetime import timedelta

import pytest

from percorso.journey.gaps import integration_gaps
from percorso.journey.model import JourneyMap, load_map_text
from percorso.journey.nodes import MAX_LENGTH
from tests.identity.conftest import T0, Event, World

H = timedelta(hours=1)
END = T0 + 30 * 24 * H

GAPS_MAP = """\
name: Flussi di prova
phases:
  - {id: all, label: {it: Tutto, en: All}}
stages:
  - {id: anyone, label: {it: Tutti, en: Anyone}, when: "true"}
systems:
  - {id: website, label: {it: Sito, en: Website}, match: 'source_kind == "web"'}
  - {id: mailer, label: {it: Newsletter, en: Mailer}, match: 'source_kind == "mailer"'}
  - {id: forms, label: {it: Moduli, en: Forms}, match: 'event == "form_submitted"'}
  - {id: crm, label: {it: CRM, en: CRM}, match: 'source_kind == "crm"'}
  - {id: erp, label: {it: ERP, en: ERP}, match: 'source_kind == "erp"'}
touchpoints:
  - id: quote_form
    label: {it: Preventivo, en: Quote}
    phase: all
    channel: form
    department: marketing
    system: forms
    match: event == "form_submitted" and properties.form_id == "preventivo"
integrations:
  - {from: mailer, to: crm}
  - from: forms
    to: crm
    label: {it: Chi chiede un preventivo arriva nel CRM, en: Quote requests reach the CRM}
    population: ever(touchpoint("quote_form"))
  - from: website
    to: crm
    label: {it: Visitatori riconosciuti, en: Visitors who identify}
    population: ever(source_kind == "web" and channel == "social")
    reached: identified()
  - {from: erp, to: crm}
  - {from: crm, to: erp}
"""


def subscribed(email: str, hours: float) -> Event:
    return {"user": email, "event": "subscribed", "source": "mailer", "at": T0 + hours * H}


def in_crm(email: str, crm_id: str, hours: float) -> Event:
    return {
        "user": crm_id,
        "source": "crm",
        "at": T0 + hours * H,
        "traits": {"crm_id": crm_id, "email": email},
    }


def in_erp(email: str, erp_id: str, hours: float) -> Event:
    return {
        "user": erp_id,
        "source": "erp",
        "at": T0 + hours * H,
        "traits": {"erp_id": erp_id, "email": email},
    }


def form(anon: str, email: str, form_id: str, hours: float) -> Event:
    return {
        "anon": anon,
        "event": "form_submitted",
        "source": "sito-web",
        "channel": "form",
        "at": T0 + hours * H,
        "props": {"form_id": form_id},
        "traits": {"email": email},
        "type": "track",
    }


def visit(anon: str, channel: str, hours: float) -> Event:
    return {"anon": anon, "channel": channel, "at": T0 + hours * H}


PEOPLE = [
    # Four newsletter subscribers: two reach the CRM (after 10 and 30 hours), two never do.
    subscribed("ada@x.it", 0),
    in_crm("ada@x.it", "CRM-1", 10),
    subscribed("bea@x.it", 0),
    in_crm("bea@x.it", "CRM-2", 30),
    subscribed("cloe@x.it", 5),
    subscribed("dora@x.it", 5),
    # Three quote requests (one reaches the CRM an hour later) and a newsletter form
    # that the flow does not count.
    form("F1", "eva@x.it", "preventivo", 1),
    in_crm("eva@x.it", "CRM-3", 2),
    form("F2", "fede@x.it", "preventivo", 1),
    form("F3", "gina@x.it", "preventivo", 1),
    form("F4", "ines@x.it", "newsletter", 1),
    # Three visitors from social: one identifies itself later.
    visit("S1", "social", 0),
    {"anon": "S1", "at": T0 + 3 * H, "traits": {"email": "lia@x.it"}},
    visit("S2", "social", 0),
    visit("S3", "social", 0),
    visit("S4", "search", 0),  # not from social: outside that flow
    # ERP customers: one known to the CRM, one not; and the CRM's record for ada
    # never reaches the ERP.
    in_erp("eva@x.it", "C-1", 48),
    in_erp("zoe@x.it", "C-2", 48),
]


@pytest.fixture(scope="module")
def gaps_map() -> JourneyMap:
    return load_map_text(GAPS_MAP, "flussi.yaml")


def test_coverage_of_each_flow(world: World, gaps_map: JourneyMap) -> None:
    world.add(*PEOPLE)
    world.update()
    report = integration_gaps(world.warehouse, gaps_map, END, map_version=4)
    flows = {(f.source, f.target, f.population, f.reached) for f in report.flows}
    assert flows == {
        ("mailer", "crm", 4, 2),
        ("forms", "crm", 3, 1),
        ("website", "crm", 3, 1),
        ("erp", "crm", 2, 1),
        # ada, bea and eva are in the CRM; only eva is in the ERP.
        ("crm", "erp", 3, 1),
    }
    by_key = {(f.source, f.target): f for f in report.flows}
    assert by_key[("mailer", "crm")].coverage == pytest.approx(0.5)
    assert by_key[("mailer", "crm")].median_hours_to_reach == pytest.approx(20.0)
    assert by_key[("forms", "crm")].median_hours_to_reach == pytest.approx(1.0)
    assert by_key[("forms", "crm")].label.en == "Quote requests reach the CRM"
    # A flow without a label is named after its systems.
    assert by_key[("erp", "crm")].label.it == "ERP → CRM"
    assert report.map_version == 4
    systems = {s.id: s.profiles for s in report.systems}
    assert systems["mailer"] == 4
    assert systems["crm"] == 3
    assert systems["erp"] == 2


def test_as_of_counts_only_what_had_happened(world: World, gaps_map: JourneyMap) -> None:
    world.add(*PEOPLE)
    world.update()
    # Twenty hours in: bea is not in the CRM yet and nobody is in the ERP.
    early = integration_gaps(world.warehouse, gaps_map, T0 + 20 * H)
    by_key = {(f.source, f.target): f for f in early.flows}
    assert (by_key[("mailer", "crm")].population, by_key[("mailer", "crm")].reached) == (4, 1)
    assert by_key[("erp", "crm")].population == 0
    assert by_key[("erp", "crm")].coverage is None


def test_an_empty_warehouse_has_no_population(world: World, gaps_map: JourneyMap) -> None:
    report = integration_gaps(world.warehouse, gaps_map, END)
    assert all(f.population == 0 and f.coverage is None for f in report.flows)
    assert all(s.profiles == 0 for s in report.systems)


def test_a_system_rule_at_the_length_limit_is_a_default_population(world: World) -> None:
    # The default population wraps the system's parsed rule in ever(...), not its
    # text: a rule the map accepted cannot fail later for being too long.
    long_match = 'source_kind == "mailer" or ' * 73 + 'source == "newsletter-tool"'
    assert len(long_match) + len("ever()") > MAX_LENGTH >= len(long_match)
    text = GAPS_MAP.replace("""match: 'source_kind == "mailer"'""", f"match: '{long_match}'")
    world.add(*PEOPLE)
    world.update()
    report = integration_gaps(world.warehouse, load_map_text(text, "flussi.yaml"), END)
    mailer = next(f for f in report.flows if f.source == "mailer")
    assert (mailer.population, mailer.reached) == (4, 2)
