"""The journey map file: pydantic models, cross-references, and loading with line errors.

A map is read in two steps. Pydantic checks each entry (keys, closed sets,
every rule parsed and type-checked in its scope); then `_references` checks
what one entry says about another (a touchpoint's phase, a transition's
stages, a rule's `touchpoint("...")`). Both report the file, the line, the
key and, for a name that is almost right, the name that was meant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from percorso.errors import did_you_mean
from percorso.events.channel import Channel
from percorso.journey.nodes import Predicate, PredicateError, Scope
from percorso.journey.predicates import parse
from percorso.journey.views import Bilingual
from percorso.yaml_models import YamlFileError, line_of, parse_yaml, validation_message

Department = Literal["marketing", "sales", "service", "administration"]
DEPARTMENTS: tuple[Department, ...] = ("marketing", "sales", "service", "administration")
# The event channels, plus the ones that leave no web trace.
TouchpointChannel = Literal[Channel, "in_person", "phone", "word_of_mouth"]
TouchpointDevice = Literal["any", "desktop", "mobile", "tablet"]
KpiName = Literal["profiles", "events", "conversion_to_next_phase", "time_in_phase"]
ID = re.compile(r"[a-z][a-z0-9_]*")


def _id(value: str) -> str:
    if ID.fullmatch(value) is None:
        raise ValueError(
            f'"{value}" is not an id: write lower-case letters, digits and _, '
            'starting with a letter, e.g. "new_customer"'
        )
    return value


Id = Annotated[str, Field(max_length=64), AfterValidator(_id)]
WHAT = "journey map"
# What a profile that no stage or persona rule matches is counted as; no map may use it.
NO_STAGE = "none"
NO_PERSONA = "none"


def _rule(scope: Scope) -> Any:
    def check(text: str) -> str:
        try:
            parse(text, scope)
        except PredicateError as exc:
            raise ValueError(str(exc)) from exc
        return text

    return AfterValidator(check)


def _yaml_bool(value: Any) -> Any:
    """`when: true` is a YAML boolean; as a rule it says the same as `when: "true"`."""
    return ("true" if value else "false") if isinstance(value, bool) else value


EventRule = Annotated[str, BeforeValidator(_yaml_bool), _rule("event")]
ProfileRule = Annotated[str, BeforeValidator(_yaml_bool), _rule("profile")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_Strict):
    id: Id
    label: Bilingual
    description: Bilingual | None = None


class Persona(_Strict):
    id: Id
    label: Bilingual
    description: Bilingual | None = None
    when: ProfileRule


class Stage(_Strict):
    id: Id
    label: Bilingual
    when: ProfileRule
    phase: Id | None = None


class System(_Strict):
    id: Id
    label: Bilingual
    match: EventRule


class Touchpoint(_Strict):
    id: Id
    label: Bilingual
    phase: Id
    channel: TouchpointChannel
    device: TouchpointDevice = "any"
    department: Department
    system: Id
    match: EventRule
    personas: list[Id] = []


class Integration(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: Id = Field(alias="from")
    target: Id = Field(alias="to")
    label: Bilingual | None = None
    population: ProfileRule | None = None
    reached: ProfileRule | None = None


class Kpi(_Strict):
    kpi: KpiName
    phase: Id | None = None
    touchpoint: Id | None = None
    target: float | None = None


class JourneyMap(_Strict):
    """A whole map. Lists keep their order: phases left to right, stages by precedence."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    name: str = Field(min_length=1, max_length=200)
    description: Bilingual | None = None
    phases: list[Phase] = Field(min_length=1)
    personas: list[Persona] = []
    stages: list[Stage] = Field(min_length=1)
    transitions: dict[Id, list[Id]] = {}
    systems: list[System] = []
    touchpoints: list[Touchpoint] = []
    integrations: list[Integration] = []
    kpis: list[Kpi] = []

    @cached_property
    def touchpoint_rules(self) -> dict[str, Predicate]:
        """Each touchpoint's match, a device other than `any` included."""
        rules = {}
        for tp in self.touchpoints:
            rule = parse(tp.match, "event")
            rules[tp.id] = rule if tp.device == "any" else rule.on_device(tp.device)
        return rules

    @cached_property
    def stage_rules(self) -> dict[str, Predicate]:
        return {stage.id: parse(stage.when, "profile") for stage in self.stages}

    @cached_property
    def persona_rules(self) -> dict[str, Predicate]:
        return {persona.id: parse(persona.when, "profile") for persona in self.personas}

    @cached_property
    def system_rules(self) -> dict[str, Predicate]:
        return {system.id: parse(system.match, "event") for system in self.systems}

    def allows(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, [])


# --- cross references ------------------------------------------------------------------


def unknown_reference(kind: str, value: str, choices: list[str]) -> str:
    listed = ", ".join(choices) if choices else "none are declared"
    return (
        f'"{value}" is not a {kind} of this map{did_you_mean(value, choices)} ({kind}s: {listed})'
    )


def _references(m: JourneyMap) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """Every reference from one entry to another that points nowhere, with its location."""
    sections: dict[str, list[str]] = {}
    for section in ("phases", "personas", "stages", "systems", "touchpoints"):
        seen: set[str] = set()
        for index, item in enumerate(getattr(m, section)):
            if item.id in seen:
                yield (section, index, "id"), f'"{item.id}" is used twice in {section}'
            if item.id in (NO_STAGE, NO_PERSONA) and section in ("stages", "personas"):
                yield (
                    (section, index, "id"),
                    '"none" is reserved for profiles no rule matches: choose another id',
                )
            seen.add(item.id)
        sections[section] = [item.id for item in getattr(m, section)]
    phases, stages, systems = sections["phases"], sections["stages"], sections["systems"]
    touchpoints, personas = sections["touchpoints"], sections["personas"]
    for index, stage in enumerate(m.stages):
        if stage.phase is not None and stage.phase not in phases:
            yield ("stages", index, "phase"), unknown_reference("phase", stage.phase, phases)
    for source, targets in m.transitions.items():
        if source not in stages:
            yield ("transitions", source), unknown_reference("stage", source, stages)
        for target in targets:
            if target not in stages:
                yield ("transitions", source), unknown_reference("stage", target, stages)
    for index, tp in enumerate(m.touchpoints):
        if tp.phase not in phases:
            yield ("touchpoints", index, "phase"), unknown_reference("phase", tp.phase, phases)
        if tp.system not in systems:
            yield ("touchpoints", index, "system"), unknown_reference("system", tp.system, systems)
        for persona in tp.personas:
            if persona not in personas:
                yield (
                    ("touchpoints", index, "personas"),
                    unknown_reference("persona", persona, personas),
                )
    for index, flow in enumerate(m.integrations):
        for key, system in (("from", flow.source), ("to", flow.target)):
            if system not in systems:
                yield ("integrations", index, key), unknown_reference("system", system, systems)
    for index, kpi in enumerate(m.kpis):
        if (kpi.phase is None) == (kpi.touchpoint is None):
            yield ("kpis", index), "give either phase or touchpoint"
        elif kpi.phase is not None and kpi.phase not in phases:
            yield ("kpis", index, "phase"), unknown_reference("phase", kpi.phase, phases)
        elif kpi.touchpoint is not None and kpi.touchpoint not in touchpoints:
            yield (
                ("kpis", index, "touchpoint"),
                unknown_reference("touchpoint", kpi.touchpoint, touchpoints),
            )
        elif kpi.touchpoint is not None and kpi.kpi in (
            "conversion_to_next_phase",
            "time_in_phase",
        ):
            yield (
                ("kpis", index, "kpi"),
                f"{kpi.kpi} is measured per phase: give phase, not touchpoint",
            )
    yield from _rule_references(m, touchpoints)


def _rule_references(
    m: JourneyMap, touchpoints: list[str]
) -> Iterator[tuple[tuple[int | str, ...], str]]:
    rules: list[tuple[tuple[int | str, ...], str, Scope]] = []
    rules += [
        (("touchpoints", i, "match"), tp.match, "event") for i, tp in enumerate(m.touchpoints)
    ]
    rules += [(("systems", i, "match"), s.match, "event") for i, s in enumerate(m.systems)]
    rules += [(("stages", i, "when"), s.when, "profile") for i, s in enumerate(m.stages)]
    rules += [(("personas", i, "when"), p.when, "profile") for i, p in enumerate(m.personas)]
    for i, flow in enumerate(m.integrations):
        for key in ("population", "reached"):
            text = getattr(flow, key)
            if text is not None:
                rules.append((("integrations", i, key), text, "profile"))
    for loc, text, scope in rules:
        for ref in sorted(parse(text, scope).touchpoints):
            if ref not in touchpoints:
                yield loc, unknown_reference("touchpoint", ref, touchpoints)
    # touchpoint("a") inside a's own match, directly or through others, would never end.
    graph = {tp.id: parse(tp.match, "event").touchpoints for tp in m.touchpoints}
    for index, tp in enumerate(m.touchpoints):
        stack, seen = list(graph[tp.id]), set()
        while stack:
            ref = stack.pop()
            if ref == tp.id:
                yield (
                    ("touchpoints", index, "match"),
                    f'"{tp.id}" refers to itself through touchpoint()',
                )
                break
            if ref not in seen and ref in graph:
                seen.add(ref)
                stack.extend(graph[ref])


# --- loading ---------------------------------------------------------------------------


def load_map_text(text: str, label: str) -> JourneyMap:
    """A map from YAML text; `label` (a file name, "version 3") starts every error."""
    data, root = parse_yaml(text, label)
    if not isinstance(data, Mapping):
        raise YamlFileError(label, f"a {WHAT} must be a mapping of keys to values")
    try:
        journey_map = JourneyMap.model_validate(data)
    except ValidationError as exc:
        raise YamlFileError(label, validation_message(exc, JourneyMap, root)) from exc
    for loc, problem in _references(journey_map):
        raise YamlFileError(label, _located(root, loc, problem))
    return journey_map


def _located(root: yaml.Node | None, loc: tuple[int | str, ...], problem: str) -> str:
    line = line_of(root, loc)
    key = ".".join(str(part) for part in loc)
    return f'{"" if line is None else f"line {line}, "}key "{key}": {problem}'


def read_map_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise YamlFileError(str(path), f"no such {WHAT} file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(str(path), f"cannot be read as a {WHAT} ({exc})") from exc


def load_map(path: Path) -> JourneyMap:
    return load_map_text(read_map_file(path), str(path))


def default_map_text() -> str:
    """The map shipped with Percorso: the B2B/B2C journey from suspect to churn."""
    return resources.files("percorso.journey").joinpath("default_map.yaml").read_text("utf-8")
