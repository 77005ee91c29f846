"""What changed between two journey maps, item by item, on their parsed YAML.

Pure: two mappings in, a `MapDiff` out. Items are matched by what identifies
them, not by position: `id` in phases, personas, stages, touchpoints and
systems; the `from`/`to` pair in integrations; the KPI and the phase or
touchpoint it measures in kpis. Transitions are compared as sets of edges.
Only phases have an order that means something (the columns of the map).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

Action = Literal["added", "removed", "changed", "moved"]

# The order sections appear in a diff; top-level keys not listed come after, by name.
SECTIONS = (
    "name",
    "phases",
    "personas",
    "stages",
    "transitions",
    "touchpoints",
    "systems",
    "integrations",
    "kpis",
)
ID_SECTIONS = frozenset({"phases", "personas", "stages", "touchpoints", "systems"})
ORDERED_SECTIONS = frozenset({"phases"})

_SIGN: dict[Action, str] = {"added": "+", "removed": "-", "changed": "~", "moved": "~"}


class Change(BaseModel):
    """One difference: an item added or removed, a field changed, or a reordering.

    ``key`` identifies the item inside its section (empty for the section
    itself); ``field`` is the dotted path of a changed field inside the item
    (``label.it``), None when the whole value changed.
    """

    section: str
    key: str
    action: Action
    field: str | None = None
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        return ".".join(part for part in (self.section, self.key, self.field) if part)

    def line(self) -> str:
        sign = _SIGN[self.action]
        if self.action in ("added", "removed"):
            return f"{sign} {self.path}"
        if self.action == "moved":
            return (
                f"{sign} {self.path}: order changed: {','.join(self.old)} -> {','.join(self.new)}"
            )
        return f"{sign} {self.path}: {_show(self.old)} -> {_show(self.new)}"


class MapDiff(BaseModel):
    """Every change from one map to another, in a stable order."""

    changes: list[Change] = []

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        """One line per change: ``+`` added, ``-`` removed, ``~`` changed or moved."""
        return [change.line() for change in self.changes]


def diff_maps(old: Mapping[str, Any], new: Mapping[str, Any]) -> MapDiff:
    """The changes that turn the map ``old`` into the map ``new``."""
    extra = sorted((set(old) | set(new)) - set(SECTIONS), key=str)
    changes: list[Change] = []
    for section in (*SECTIONS, *extra):
        before, after = old.get(section), new.get(section)
        if section == "transitions":
            changes += _diff_edges(section, before, after)
        elif section == "integrations":
            changes += _diff_keyed(section, before, after, _flow_key, ("from", "to"))
        elif section == "kpis":
            changes += _diff_keyed(section, before, after, _kpi_key, ("kpi", "phase", "touchpoint"))
        elif section in ID_SECTIONS or (_is_id_list(before) and _is_id_list(after)):
            if section in ORDERED_SECTIONS:
                changes += _diff_order(section, before, after)
            changes += _diff_keyed(section, before, after, _id_key, ("id",))
        else:
            changes += _diff_fields(section, "", _flatten(before), _flatten(after))
    return MapDiff(changes=changes)


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: {"label": {"it": "x"}} -> {"label.it": "x"}.

    Lists and scalars are leaves: a changed list is one change.
    """
    if not isinstance(value, Mapping):
        return {} if value is None and not prefix else {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, Mapping) and item:
            flat.update(_flatten(item, path))
        else:
            flat[path] = item
    return flat


def _diff_fields(
    section: str, key: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Change]:
    """A `changed` per field whose value differs; a missing field counts as None."""
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append(
                Change(
                    section=section,
                    key=key,
                    action="changed",
                    field=name or None,
                    old=old,
                    new=new,
                )
            )
    return changes


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _is_id_list(value: Any) -> bool:
    return value is None or (
        isinstance(value, list) and all(isinstance(i, Mapping) and "id" in i for i in value)
    )


def _id_key(item: Mapping[str, Any]) -> str:
    return str(item.get("id"))


def _flow_key(item: Mapping[str, Any]) -> str:
    return f"{item.get('from')}->{item.get('to')}"


def _kpi_key(item: Mapping[str, Any]) -> str:
    scope = "phase" if "phase" in item else "touchpoint"
    return f"{item.get('kpi')}@{scope}:{item.get(scope)}"


def _keyed(items: Iterable[Any], key_of: Callable[[Mapping[str, Any]], str]) -> dict[str, Any]:
    """Items by key, in their order; a repeated key (an invalid map) gets a #n suffix."""
    keyed: dict[str, Any] = {}
    for position, item in enumerate(items):
        key = key_of(item) if isinstance(item, Mapping) else f"#{position}"
        unique, n = key, 1
        while unique in keyed:
            n += 1
            unique = f"{key}#{n}"
        keyed[unique] = item
    return keyed


def _diff_keyed(
    section: str,
    before: Any,
    after: Any,
    key_of: Callable[[Mapping[str, Any]], str],
    identity: tuple[str, ...],
) -> list[Change]:
    old, new = _keyed(_items(before), key_of), _keyed(_items(after), key_of)
    changes = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            changes.append(Change(section=section, key=key, action="removed", old=old[key]))
        elif key not in old:
            changes.append(Change(section=section, key=key, action="added", new=new[key]))
        else:
            changes += _diff_fields(
                section, key, _fields(old[key], identity), _fields(new[key], identity)
            )
    return changes


def _fields(item: Any, identity: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"": item}
    return _flatten({k: v for k, v in item.items() if k not in identity})


def _diff_order(section: str, before: Any, after: Any) -> list[Change]:
    """A `moved` when the items in both maps are not in the same relative order."""
    old, new = list(_keyed(_items(before), _id_key)), list(_keyed(_items(after), _id_key))
    common = set(old) & set(new)
    old_order = [key for key in old if key in common]
    new_order = [key for key in new if key in common]
    if old_order == new_order:
        return []
    return [Change(section=section, key="", action="moved", old=old_order, new=new_order)]


def _edges(value: Any) -> set[tuple[str, str]]:
    if not isinstance(value, Mapping):
        return set()
    return {
        (str(source), str(target))
        for source, targets in value.items()
        for target in (
            targets if isinstance(targets, list) else [] if targets is None else [targets]
        )
    }


def _diff_edges(section: str, before: Any, after: Any) -> list[Change]:
    old, new = _edges(before), _edges(after)
    changes = [
        Change(section=section, key=f"{s}->{t}", action="removed", old=[s, t]) for s, t in old - new
    ]
    changes += [
        Change(section=section, key=f"{s}->{t}", action="added", new=[s, t]) for s, t in new - old
    ]
    return sorted(changes, key=lambda change: change.key)
