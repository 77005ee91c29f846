"""Paths: how profiles move from one event to the next.

A profile's *path* is its events in time order, ties in time broken by
ingestion order (`seq`), each read as a *node* at one level:

- `event`: the event's name; an event with no name (an identify call) is named
  by its type (`identify`);
- `touchpoint` / `phase`: only the events that are touchpoints of the journey
  map, named by the touchpoint's id / its phase's id.

From the paths come the directly-follows graph of process mining (each pair of
consecutive nodes: how often, and the median and 90th percentile of the
seconds between them), the nodes paths start and end at, the most frequent
whole paths (variants) and a Sankey of the first steps by position. `edges`,
`starts` and `ends` are what `pm4py.discover_dfg` finds on the same paths.

A path is cleaned in this order: the anchors cut it (`after`: from the
profile's first event of that step on; `before`: up to its first event of that
step, at or after the `after` anchor; `after_dropping`: the profiles that
dropped out of a funnel, from their first event of the last step they reached
at or after their first step-1 event), excluded nodes go, groups rename nodes,
repeats collapse (A A B -> A B) and `max_steps` keeps the first N nodes (the
last N when only `before` is set: the steps that led there). A collapsed run is
timed from its first event. Anchors are read on the events themselves, so at
the touchpoint level a path `after` an event that is no touchpoint starts at
the first touchpoint after it.

The expressions are in `percorso.analytics.path_tables`; this module holds the
query, the result and the checks.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from percorso.analytics import funnels
from percorso.analytics import path_tables as tables
from percorso.analytics.funnels import FunnelQuery
from percorso.analytics.steps import Step
from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Territory, UnknownEvent
from percorso.errors import did_you_mean

Level = Literal["event", "touchpoint", "phase"]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class PathQuery(AnalysisQuery):
    """Which paths to read, how to clean them and how much of them to report."""

    level: Level = Field(
        default="event",
        description="What a node is: the event's name, or the map's touchpoint or phase "
        "(only events that are touchpoints are read).",
    )
    after: Step | None = Field(
        default=None,
        description="Read each path from the profile's first event of this step on "
        "(profiles without one are left out).",
    )
    before: Step | None = Field(
        default=None,
        description="Read each path up to the profile's first event of this step (at or after "
        "`after`), inclusive (profiles without one are left out).",
    )
    after_dropping: FunnelQuery | None = Field(
        default=None,
        description="Read the paths of the profiles that dropped out of this funnel at its "
        "`dropped_at` step, from their first event of the step before it (at or after their "
        "first step-1 event). Only the funnel's steps, window, order and dropped_at are read.",
    )
    exclude: list[Name] = Field(
        default_factory=list,
        max_length=200,
        description="Nodes dropped from the paths before pairing (event names, or touchpoint "
        "or phase ids).",
    )
    group: dict[Name, Annotated[list[Name], Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict,
        max_length=50,
        description="Nodes renamed to one group's name: {group name: [node, ...]}.",
    )
    collapse_repeats: bool = Field(
        default=False, description="Merge consecutive equal nodes (A, A, B becomes A, B)."
    )
    max_steps: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Keep only the first N nodes of each path (the last N when only `before` "
        "is set).",
    )
    min_count: int = Field(default=1, ge=1, description="Report edges seen at least this often.")
    limit_edges: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Report at most this many edges (the most frequent).",
    )
    top_paths: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="How many variants (whole paths) to report; 0 for none.",
    )
    sankey_steps: int = Field(
        default=5,
        ge=0,
        le=20,
        description="How many steps of each path the Sankey shows; 0 for none.",
    )

    @model_validator(mode="after")
    def _one_start(self) -> Self:
        if self.after_dropping is not None:
            if self.after_dropping.dropped_at is None:
                raise ValueError(
                    "after_dropping needs the funnel's dropped_at: the step they did not reach"
                )
            if self.after is not None:
                raise ValueError("a path starts after a step or after a funnel drop, not both")
        return self

    @model_validator(mode="after")
    def _groups_apart(self) -> Self:
        owner: dict[str, str] = {}
        for name, members in self.group.items():
            for member in members:
                if member in owner and owner[member] != name:
                    raise ValueError(
                        f'"{member}" is in two groups ("{owner[member]}" and "{name}"): '
                        "put it in one"
                    )
                owner[member] = name
        for name in self.group:
            if name in owner and owner[name] != name:
                raise ValueError(
                    f'group "{name}" is also a member of group "{owner[name]}": '
                    "a group cannot hold another"
                )
        for name in self.exclude:
            if name in owner:
                raise ValueError(
                    f'"{name}" is both excluded and in group "{owner[name]}": choose one'
                )
        return self


class Edge(BaseModel):
    """A pair of consecutive nodes. Serialise with `model_dump()` / `model_dump_json()`:
    the key is "from" (`from_` in Python)."""

    model_config = ConfigDict(
        serialize_by_alias=True, validate_by_alias=True, validate_by_name=True
    )

    from_: str = Field(alias="from")
    to: str
    count: int = Field(description="How many times `to` directly follows `from` in a path.")
    median_seconds: float = Field(description="Median seconds from `from` to `to`.")
    p90_seconds: float = Field(description="90th percentile of the seconds from `from` to `to`.")


class NodeCount(BaseModel):
    node: str
    count: int


class Variant(BaseModel):
    path: list[str]
    profiles: int
    share: float = Field(description="Of the profiles with a path, the share with this one.")


class SankeyNode(BaseModel):
    name: str
    step: int = Field(description="The node's position in the path, from 1.")
    profiles: int


class SankeyLink(BaseModel):
    source: int = Field(description="Index in `nodes`.")
    target: int = Field(description="Index in `nodes`.")
    value: int = Field(description="Profiles that went from `source` to `target`.")


class Sankey(BaseModel):
    nodes: list[SankeyNode] = Field(default_factory=list)
    links: list[SankeyLink] = Field(default_factory=list)


class PathResult(BaseModel):
    level: Level
    edges: list[Edge] = Field(description="The directly-follows graph, most frequent first.")
    starts: list[NodeCount] = Field(description="The first node of each path.")
    ends: list[NodeCount] = Field(description="The last node of each path.")
    variants: list[Variant] = Field(description="The most frequent whole paths.")
    sankey: Sankey
    profiles: int = Field(description="Profiles with a path.")
    events: int = Field(description="Nodes on their paths.")


def run(query: PathQuery, territory: Territory) -> PathResult:
    """The paths of `territory`'s profiles as `query` reads them, in one query."""
    check(query, territory)
    parts = territory.parts(tables.report(query, territory))
    graph = parts["graph"]
    edges = sorted(
        (
            Edge.model_validate(
                {
                    "from": r["node"],
                    "to": r["to"],
                    "count": r["count"],
                    "median_seconds": round(r["quantiles_us"][0] / 1e6, 3),
                    "p90_seconds": round(r["quantiles_us"][1] / 1e6, 3),
                }
            )
            for r in graph
            if r["to"] is not None and r["count"] >= query.min_count
        ),
        key=lambda e: (-e.count, e.from_, e.to),
    )
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for r in graph:
        starts[r["node"]] += r["starts"]
        if r["to"] is None:
            ends[r["node"]] += r["count"]
    profiles = sum(ends.values())
    return PathResult(
        level=query.level,
        edges=edges[: query.limit_edges],
        starts=_counts(starts),
        ends=_counts(ends),
        variants=_variants(parts["variants"], profiles),
        sankey=_sankey(parts["sankey"]),
        profiles=profiles,
        events=sum(r["count"] for r in graph),
    )


def check(query: PathQuery, territory: Territory) -> None:
    """Raise `AnalyticsError` for an unknown step, event, touchpoint or phase."""
    for step in (query.after, query.before):
        if step is not None:
            step.check(territory)
    if query.after_dropping is not None:
        funnels.check(query.after_dropping, territory)
    names = [*query.exclude, *(m for members in query.group.values() for m in members)]
    if not names:
        return
    known = node_names(query.level, territory)
    for name in names:
        if name in known:
            continue
        hint = did_you_mean(name, known)
        if query.level == "event":
            raise UnknownEvent(
                f'"{name}" is not an event in this warehouse{hint}'
                " (`percorso stats` lists what the warehouse holds)"
            )
        where = "`percorso map show` lists them"
        raise AnalyticsError(f'"{name}" is not a {query.level} of the journey map{hint} ({where})')
    for step in (query.after, query.before):
        if query.level == "event" and step is not None and step.event in query.exclude:
            raise AnalyticsError(
                f'"{step.event}" is both an anchor and excluded: drop it from the exclusions'
            )


def node_names(level: Level, territory: Territory) -> list[str]:
    """The nodes a path can have at `level`, sorted."""
    if level == "touchpoint":
        return sorted(tp.id for tp in territory.journey_map.touchpoints)
    if level == "phase":
        return [phase.id for phase in territory.journey_map.phases]
    raw = territory.engine.ibis.table("events")
    types = raw.filter(raw.event.isnull()).select("type").distinct()
    unnamed = {str(r["type"]) for r in territory.rows(types) if r["type"] is not None}
    return sorted({*territory.event_names(), *unnamed})


def _variants(rows: list[dict[str, Any]], profiles: int) -> list[Variant]:
    ranked = sorted(rows, key=lambda r: (-r["count"], [i["node"] for i in r["path"]]))
    return [
        Variant(
            path=[item["node"] for item in r["path"]],
            profiles=r["count"],
            share=round(r["count"] / profiles, 4),
        )
        for r in ranked
    ]


def _sankey(rows: list[dict[str, Any]]) -> Sankey:
    """Nodes by position (one node at step 1 and at step 2 are two Sankey nodes)."""
    reach: Counter[tuple[int, str]] = Counter()
    for r in rows:
        reach[(r["step"], r["node"])] += r["count"]
    ordered = sorted(reach, key=lambda key: (key[0], -reach[key], key[1]))
    index = {key: i for i, key in enumerate(ordered)}
    links = [
        SankeyLink(
            source=index[(r["step"], r["node"])],
            target=index[(r["step"] + 1, r["to"])],
            value=r["count"],
        )
        for r in rows
        if r["to"] is not None
    ]
    return Sankey(
        nodes=[SankeyNode(name=n, step=s + 1, profiles=reach[(s, n)]) for s, n in ordered],
        links=sorted(links, key=lambda link: (link.source, -link.value, link.target)),
    )


def _counts(counter: Counter[str]) -> list[NodeCount]:
    ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [NodeCount(node=node, count=n) for node, n in ordered if n > 0]
