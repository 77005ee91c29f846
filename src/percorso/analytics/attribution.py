"""Attribution: which channels (or touchpoints of the map) earn the credit for a conversion.

A conversion is every event of a step (`order_completed`, `touchpoint:landing_form`,
`order_placed where properties.channel == "web"`), or only each profile's first one.
Its *touches* are the profile's events before it:

- on one of the counted `channels`: by default the marketing channels, without
  `direct` (a direct event is also a click inside the site, so it would be the last
  touch of nearly every web order) and without the back-office systems (crm, erp,
  support, survey); at touchpoint level the event must also be a touchpoint of the map,
  and the touchpoint is credited;
- strictly before the conversion (by time, then ingestion order) and at most `lookback`
  before it; each conversion looks back on its own, so one touch may serve two;
- never an event of the conversion step itself;
- consecutive touches of one channel (touchpoint) are one touch, at the time of the
  latest: a visit of twelve pages from search is one search touch, so the linear model
  shares credit between the channels met in turn, not between page views.

A conversion with no touch is credited to `(none)` by every model, so each model's
credits sum to the number of conversions. The rule-based models give each touch of a
conversion with `n` touches (0-based position `i`, age `a` before the conversion):

- first_touch: 1 to i = 0; last_touch: 1 to i = n - 1; linear: 1/n;
- time_decay: 2^(-a / half_life), normalised over the conversion's touches (to the second);
- position_based: the first and last get `position_weights` (0.4, 0.4), the middle ones
  share the rest; with two touches the weights are normalised (0.5 each by default);
- markov: data-driven, see `percorso.analytics.markov`. Its journeys are the touched
  conversions' paths and, for not converting, each profile's touches after its last
  conversion (all of them if it never converted), the last `lookback` before its last touch.

With `value` (a property such as `properties.total`) each credit also carries its share
of the conversion's value (missing values count 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Self

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field, field_validator, model_validator

from percorso.analytics import markov
from percorso.analytics.breakdown import NONE
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Duration, Territory
from percorso.events.channel import Channel
from percorso.journey.compile import json_value
from percorso.journey.nodes import JSON_ROOTS

Model = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"]
MODELS: tuple[Model, ...] = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
)
RULE_MODELS: tuple[Model, ...] = MODELS[:-1]
Level = Literal["channel", "touchpoint"]
MARKETING: tuple[Channel, ...] = ("social", "search", "email", "paid", "referral", "form")


class AttributionQuery(AnalysisQuery):
    """Which conversion, at which level, by which models, looking back how far."""

    conversion: Step = Field(
        description='The conversion: an event, "touchpoint:ID" or a rule ("X where ...").'
    )
    level: Level = Field(
        default="channel", description="Credit channels, or the map's touchpoints."
    )
    models: list[Model] = Field(
        default_factory=lambda: list(MODELS),
        min_length=1,
        max_length=len(MODELS),
        description="The attribution models to run (default: all).",
    )
    channels: list[Channel] = Field(
        default_factory=lambda: list(MARKETING),
        min_length=1,
        max_length=20,
        description="The channels whose events are touches (default: the marketing channels "
        "without direct).",
    )
    lookback: Duration = Field(
        default=timedelta(days=30),
        description='How long before a conversion touches count ("30d").',
    )
    half_life: Duration = Field(
        default=timedelta(days=7),
        description='time_decay: a touch this much older than another earns half as much ("7d").',
    )
    position_weights: tuple[float, float] = Field(
        default=(0.4, 0.4),
        description="position_based: the first and the last touch's shares; the middle "
        "touches split the rest.",
    )
    value: str | None = Field(
        default=None,
        max_length=200,
        description="A property of the conversion holding its value (properties.total): "
        "credit revenue as well as conversions.",
    )
    all_conversions: bool = Field(
        default=True, description="Every conversion, or only each profile's first."
    )

    @field_validator("conversion", mode="before")
    @classmethod
    def _read_step(cls, value: Any) -> Any:
        return Step.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        if len(set(self.models)) != len(self.models):
            raise ValueError("name each model once")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("name each channel once")
        for name, length in (("lookback", self.lookback), ("half_life", self.half_life)):
            if not timedelta(seconds=1) <= length <= timedelta(days=3650):
                raise ValueError(f"{name} must be between 1 second and 3650 days")
        first, last = self.position_weights
        if min(first, last) < 0 or not 0 < first + last <= 1:
            raise ValueError(
                "position_weights are the first and last touch's shares: each at least 0, "
                "together more than 0 and at most 1, such as (0.4, 0.4)"
            )
        if self.value is not None:
            root, _, rest = self.value.partition(".")
            if root not in JSON_ROOTS or not rest or any(not p for p in rest.split(".")):
                raise ValueError(
                    f'value "{self.value}" is not a property path: write one such as '
                    "properties.total"
                )
        return self


class Credit(BaseModel):
    """What one channel or touchpoint earned under one model."""

    name: str = Field(description="The channel, or touchpoint id; (none) for no touch.")
    conversions: float = Field(description="Conversions credited (fractional).")
    share: float = Field(description="Its share of all conversions (0-1).")
    value: float | None = Field(
        default=None, description="Conversion value credited (with `value`)."
    )
    removal_effect: float | None = Field(
        default=None, description="markov: the share of conversions lost without it (0-1)."
    )


class ModelCredits(BaseModel):
    model: Model
    credits: list[Credit] = Field(description="Every name, most credited first.")


class AttributionResult(BaseModel):
    conversion: str = Field(description="The conversion step, as text.")
    level: Level
    conversions: int = Field(description="Conversions counted.")
    touched: int = Field(description="Conversions with at least one touch in the lookback.")
    value: float | None = Field(default=None, description="Their total value (with `value`).")
    journeys: int | None = Field(
        default=None, description="markov: journeys in the chain (converting or not)."
    )
    conversion_probability: float | None = Field(
        default=None, description="markov: the chain's probability that a journey converts."
    )
    models: list[ModelCredits]


def run(query: AttributionQuery, territory: Territory) -> AttributionResult:
    """Credit the query's conversions to channels or touchpoints under each model."""
    query.conversion.check(territory)
    if query.conversion.optional:
        raise AnalyticsError(
            f'the conversion "{query.conversion.label}" cannot be optional: drop the "?"'
        )
    # Labelling every event with its touchpoint is a large CASE: only when it is read.
    needs_map = query.level == "touchpoint" or query.conversion.touchpoint is not None
    events = territory.labelled() if needs_map else territory.events()
    is_conversion = query.conversion.condition(events, territory)
    conversions = _conversions(query, events.filter(is_conversion))
    touches = _touches(query, events.filter(~is_conversion))
    paths = _paths(query, conversions, touches)

    rule_models = [m for m in query.models if m in RULE_MODELS]
    rows = territory.rows(_rule_credits(query, conversions, paths, rule_models))
    totals = Totals.of(rows)
    credited: dict[Model, dict[str, tuple[float, float]]] = {
        model: {r["name"]: (float(r[model]), float(r[f"{model}_value"] or 0.0)) for r in rows}
        for model in rule_models
    }
    journeys: int | None = None
    probability: float | None = None
    effects: dict[str, float] | None = None
    if "markov" in query.models:
        lost = markov.lost_journeys(conversions, touches, query.lookback, query.all_conversions)
        chain = territory.rows(markov.chain(paths, lost))
        counts = {(str(r["src"]), str(r["dst"])): int(r["n"]) for r in chain}
        journeys = sum(
            n for (_, dst), n in counts.items() if dst in (markov.CONVERSION, markov.NULL)
        )
        found = markov.removal_effects(counts)
        probability, effects = found.conversion_probability, found.effects
        credited["markov"] = totals.shared(found.shares())
    names = sorted({name for got in credited.values() for name in got})
    with_value = query.value is not None
    return AttributionResult(
        conversion=query.conversion.label,
        level=query.level,
        conversions=totals.conversions,
        touched=totals.conversions - totals.untouched,
        value=round(totals.value, 2) if with_value else None,
        journeys=journeys,
        conversion_probability=_rounded(probability),
        models=[
            ModelCredits(
                model=model,
                credits=_ranked(
                    credited[model],
                    names,
                    totals.conversions,
                    with_value,
                    effects if model == "markov" else None,
                ),
            )
            for model in query.models
        ],
    )


@dataclass(frozen=True)
class Totals:
    """How many conversions there were, how many had no touch, and their values."""

    conversions: int
    untouched: int
    value: float
    untouched_value: float

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> Totals:
        """From `_rule_credits`' rows: `_count` is 1 per conversion, on its first touch."""
        alone = next((r for r in rows if r["name"] == NONE), None)
        return cls(
            conversions=round(sum(float(r["_count"]) for r in rows)),
            untouched=round(float(alone["_count"])) if alone else 0,
            value=sum(float(r["_count_value"] or 0.0) for r in rows),
            untouched_value=float(alone["_count_value"] or 0.0) if alone else 0.0,
        )

    def shared(self, shares: dict[str, float]) -> dict[str, tuple[float, float]]:
        """The touched conversions (and their value) by `shares`; the untouched to (none),
        as in the rule-based models."""
        touched = self.conversions - self.untouched
        touched_value = self.value - self.untouched_value
        credits = {name: (s * touched, s * touched_value) for name, s in shares.items()}
        if self.untouched:
            credits[NONE] = (float(self.untouched), self.untouched_value)
        return credits


def _conversions(query: AttributionQuery, found: ir.Table) -> ir.Table:
    """One row per conversion: profile_id, conv (its seq), cts, start (of the lookback), value."""
    if not query.all_conversions:
        # Window values become columns before a filter reads them: Spark cannot filter on a
        # window expression that Ibis inlines.
        order = ibis.window(group_by=found.profile_id, order_by=[found.ts, found.seq])
        found = found.mutate(_n=ibis.row_number().over(order))
        found = found.filter(found._n == 0)
    value: ir.Value = ibis.literal(0.0)
    if query.value is not None:
        root, _, rest = query.value.partition(".")
        value = json_value(found, root, rest.split("."), "number").fill_null(0.0)
    lookback = ibis.interval(microseconds=markov.micros(query.lookback))
    return found.select(
        "profile_id",
        conv=found.seq,
        cts=found.ts,
        start=(found.ts - lookback).cast(found.ts.type()),
        value=value.cast("float64"),
    )


def _touches(query: AttributionQuery, events: ir.Table) -> ir.Table:
    """profile_id, ts, seq and `name` (the channel or touchpoint) of every touch."""
    kept = events.filter(events.channel.isin(query.channels))
    if query.level == "touchpoint":
        kept = kept.filter(kept.touchpoint.notnull())
        return kept.select("profile_id", "ts", "seq", name=kept.touchpoint)
    return kept.select("profile_id", "ts", "seq", name=kept.channel)


def _paths(query: AttributionQuery, conversions: ir.Table, touches: ir.Table) -> ir.Table:
    """Each conversion's touches, repeats merged: path (= conv), pos, n, name, age (s), value."""
    c, t = conversions, touches
    before = (t.ts < c.cts) | ((t.ts == c.cts) & (t.seq < c.conv))
    pairs = c.join(t, [c.profile_id == t.profile_id, before, t.ts >= c.start]).select(
        path=c.conv, cts=c.cts, value=c.value, ts=t.ts, seq=t.seq, name=t.name
    )
    numbered = markov.numbered(pairs)
    return numbered.mutate(age=numbered.cts.epoch_seconds() - numbered.ts.epoch_seconds())


def _rule_credits(
    query: AttributionQuery, conversions: ir.Table, paths: ir.Table, models: list[Model]
) -> ir.Table:
    """Per name: each rule model's credit and credited value, touchless conversions as (none);
    and `_count` (`_count_value`): the conversions (value) whose first touch it is, so the
    totals come with the credits in one query."""
    p = paths
    first, last = query.position_weights
    middle = (1.0 - first - last) / ibis.greatest(p.n - 2, 1).cast("float64")
    decay = math.log(2) / query.half_life.total_seconds()
    whole = ibis.window(group_by=p.path)
    # Relative to the newest touch, so the weights never all underflow to 0.
    weight = (-(p.age - p.age.min().over(whole)).cast("float64") * decay).exp()
    p = p.mutate(_weight=weight)
    credit: dict[str, ir.FloatingValue] = {
        "_count": ibis.cases((p.pos == 0, 1.0), else_=0.0),
        "first_touch": ibis.cases((p.pos == 0, 1.0), else_=0.0),
        "last_touch": ibis.cases((p.pos == p.n - 1, 1.0), else_=0.0),
        "linear": 1.0 / p.n.cast("float64"),
        "time_decay": p._weight / p._weight.sum().over(ibis.window(group_by=p.path)),
        "position_based": ibis.cases(
            (p.n == 1, 1.0),
            (p.n == 2, ibis.cases((p.pos == 0, first), else_=last) / (first + last)),
            (p.pos == 0, first),
            (p.pos == p.n - 1, last),
            else_=middle,
        ),
    }
    columns = ["_count", *models]
    touched = p.select("name", "value", **{m: credit[m] for m in columns})
    untouched = conversions.anti_join(paths, conversions.conv == paths.path)
    alone = untouched.select(
        name=ibis.literal(NONE), value="value", **{m: ibis.literal(1.0) for m in columns}
    )
    rows = touched.union(alone)
    sums: dict[str, ir.Value] = {}
    for m in columns:
        sums[m] = rows[m].sum()
        sums[f"{m}_value"] = (rows[m] * rows.value).sum()
    return rows.group_by("name").aggregate(**sums)


def _ranked(
    got: dict[str, tuple[float, float]],
    names: list[str],
    total: int,
    with_value: bool,
    effects: dict[str, float] | None,
) -> list[Credit]:
    credits = [
        Credit(
            name=name,
            conversions=round(got.get(name, (0.0, 0.0))[0], 4),
            share=round(got.get(name, (0.0, 0.0))[0] / total, 4) if total else 0.0,
            value=round(got.get(name, (0.0, 0.0))[1], 2) if with_value else None,
            removal_effect=_rounded(effects.get(name)) if effects is not None else None,
        )
        for name in names
    ]
    return sorted(credits, key=lambda c: (-c.conversions, c.name))


def _rounded(effect: float | None) -> float | None:
    return None if effect is None else round(effect, 4)
