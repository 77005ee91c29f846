"""The measured map on hand-built journeys: reach, going on, time in phase, pain points, NPS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from percorso.journey.measure import measure_map
from percorso.journey.model import JourneyMap, load_map_text
from percorso.journey.touches import phase_history, touches
from percorso.journey.views import MapView
from tests.identity.conftest import T0, Event, World

H = timedelta(hours=1)
END = T0 + 100 * 24 * H

MEASURE_MAP = """\
name: Tre fasi
phases:
  - {id: a, label: {it: Scoperta, en: Discovery}}
  - {id: b, label: {it: Valutazione, en: Evaluation}}
  - {id: c, label: {it: Acquisto, en: Purchase}}
personas:
  - {id: buyers, label: {it: Acquirenti, en: Buyers}, when: 'ever(touchpoint("t_c"))'}
stages:
  - {id: anyone, label: {it: Tutti, en: Anyone}, when: "true"}
systems:
  - {id: website, label: {it: Sito, en: Website}, match: 'source_kind == "web"'}
touchpoints:
  - {id: t_a, label: {it: Annuncio, en: Ad}, phase: a, channel: paid, department: marketing,
     system: website, match: 'event == "ad"'}
  - {id: t_b_mobile, label: {it: App, en: App}, phase: b, channel: direct, device: mobile,
     department: marketing, system: website, match: 'event == "catalogue"'}
  - {id: t_b, label: {it: Catalogo, en: Catalogue}, phase: b, channel: direct,
     department: marketing, system: website, match: 'event == "catalogue"'}
  - {id: t_c, label: {it: Ordine, en: Order}, phase: c, channel: direct, department: sales,
     system: website, match: 'event == "order"'}
kpis:
  - {kpi: conversion_to_next_phase, phase: a, target: 0.6}
  - {kpi: time_in_phase, phase: a}
  - {kpi: events, touchpoint: t_b}
"""


def touch(anon: str, event: str, hours: float, **extra: object) -> Event:
    return {"anon": anon, "event": event, "at": T0 + hours * H, **extra}


def nps(anon: str, score: int, hours: float) -> Event:
    props = {"survey": "nps", "score": score}
    return {"anon": anon, "event": "survey_answered", "at": T0 + hours * H, "props": props}


JOURNEYS = [
    # p1: a -> b -> c, one day apart; a promoter.
    touch("P1", "ad", 0),
    touch("P1", "catalogue", 24),
    touch("P1", "order", 48),
    nps("P1", 10, 50),
    # p2: a, then b two days later, and stops there; a detractor.
    touch("P2", "ad", 0),
    touch("P2", "catalogue", 48),
    nps("P2", 3, 60),
    # p3: a only.
    touch("P3", "ad", 0),
    # p4: straight to c.
    touch("P4", "order", 10),
    # p5: b on a phone first, then a: it never goes on from a.
    touch("P5", "catalogue", 0, device="mobile"),
    touch("P5", "ad", 5),
    # Events no touchpoint matches are not touches.
    touch("P3", "newsletter_opened", 30),
]


@pytest.fixture(scope="module")
def measure_map_model() -> JourneyMap:
    return load_map_text(MEASURE_MAP, "tre-fasi.yaml")


@pytest.fixture
def measured(world: World, measure_map_model: JourneyMap) -> tuple[World, MapView]:
    world.add(*JOURNEYS)
    world.update()
    return world, measure_map(world.warehouse, measure_map_model, END, map_version=2)


def test_phases_reach_go_on_and_time(measured: tuple[World, MapView]) -> None:
    _, view = measured
    phases = {p.id: p for p in view.phases}
    assert [p.id for p in view.phases] == ["a", "b", "c"]
    assert (phases["a"].profiles, phases["b"].profiles, phases["c"].profiles) == (4, 3, 2)
    # a: p1 and p2 went on, p3 did not, p5 reached b *before* a, so it did not go on from a.
    assert phases["a"].conversion_to_next == pytest.approx(0.5)
    assert phases["b"].conversion_to_next == pytest.approx(1 / 3)
    assert phases["c"].conversion_to_next is None  # the last phase
    assert phases["a"].median_days_in_phase == pytest.approx(1.5)
    assert phases["b"].median_days_in_phase == pytest.approx(1.0)
    assert view.profiles == 5
    assert view.map_version == 2


def test_touchpoints_counts_devices_and_nps(measured: tuple[World, MapView]) -> None:
    _, view = measured
    cells = {c.id: c for p in view.phases for c in p.touchpoints}
    assert (cells["t_a"].events, cells["t_a"].profiles) == (4, 4)
    # The first touchpoint that matches wins: listed first, the mobile one takes the phone visit.
    assert (cells["t_b"].events, cells["t_b"].profiles) == (2, 2)
    assert (cells["t_b_mobile"].events, cells["t_b_mobile"].profiles) == (1, 1)
    assert (cells["t_c"].events, cells["t_c"].profiles) == (2, 2)
    # NPS of the people who touched it: p1 (10) and p2 (3) -> 50% - 50% = 0; t_c only p1.
    assert cells["t_a"].nps == pytest.approx(0.0)
    assert cells["t_c"].nps == pytest.approx(100.0)
    assert cells["t_b_mobile"].nps is None  # p5 never answered
    b = next(p for p in view.phases if p.id == "b")
    assert b.channels == ["direct"]
    assert set(b.systems) == {"website"}


def test_pain_points_are_the_worst_drop_offs(measured: tuple[World, MapView]) -> None:
    _, view = measured
    phases = {p.id: p for p in view.phases}
    # a loses 2 of 4, b loses 2 of 3: both are pain points.
    assert phases["a"].pain and phases["b"].pain and not phases["c"].pain
    # Journeys that stop short of c: p3 and p5 last touched the ad, p2 the catalogue.
    lost = {(p.phase, p.touchpoint): p.lost_profiles for p in view.pain_points}
    assert lost[("a", "t_a")] == 2
    assert lost[("b", "t_b")] == 1
    assert lost[("a", None)] == 2
    assert lost[("b", None)] == 2
    cells = {c.id: c for p in view.phases for c in p.touchpoints}
    assert cells["t_a"].pain and cells["t_b"].pain and not cells["t_c"].pain
    assert all(p.text.it and p.text.en for p in view.pain_points)


def test_kpis_of_the_map(measured: tuple[World, MapView]) -> None:
    _, view = measured
    a = next(p for p in view.phases if p.id == "a")
    kpis = {k.kpi: k for k in a.kpis}
    assert kpis["conversion_to_next_phase"].value == pytest.approx(0.5)
    assert kpis["conversion_to_next_phase"].target == pytest.approx(0.6)
    assert kpis["time_in_phase"].value == pytest.approx(1.5)
    cell = next(c for p in view.phases for c in p.touchpoints if c.id == "t_b")
    assert [(k.kpi, k.value) for k in cell.kpis] == [("events", 2.0)]


def test_one_persona_map(world: World, measure_map_model: JourneyMap) -> None:
    world.add(*JOURNEYS)
    world.update()
    view = measure_map(world.warehouse, measure_map_model, END, persona="buyers")
    assert view.persona == "buyers"
    assert view.persona_label is not None and view.persona_label.en == "Buyers"
    assert view.profiles == 2  # p1 and p4
    phases = {p.id: p.profiles for p in view.phases}
    assert phases == {"a": 1, "b": 1, "c": 2}


def test_as_of_and_phase_history(world: World, measure_map_model: JourneyMap) -> None:
    world.add(*JOURNEYS)
    world.update()
    early = measure_map(world.warehouse, measure_map_model, T0 + 12 * H)
    assert [p.profiles for p in early.phases] == [4, 1, 1]  # p5's phone visit; p4's order
    touched = touches(world.warehouse, measure_map_model, END)
    p5 = world.profile_id("anonymous_id", "P5")
    history = [
        (e.phase, e.entered_at, e.touchpoint) for e in phase_history(world.warehouse, touched, p5)
    ]
    assert history == [("b", T0, "t_b_mobile"), ("a", T0 + 5 * H, "t_a")]
