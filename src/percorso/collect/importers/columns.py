"""Which file column plays which part: names as other tools write them.

Exports name the same thing a dozen ways ("Email Address", "EMAIL", "e-mail",
"Posta elettronica"), so a role lists its usual names, compared after
folding case, accents and punctuation. A column a role needs and cannot find
is an error that lists what the file has and suggests the closest name.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from percorso.collect.importers.errors import ImportFileError
from percorso.collect.importers.readers import SourceTable

_LISTED = 30


def normalise(name: str) -> str:
    """'Data Ordine' -> 'data_ordine', 'Quantità' -> 'quantita', 'DOUBLE_OPT-IN' -> 'double_opt_in'."""
    folded = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


@dataclass(frozen=True)
class Role:
    """A part a column can play, with the names tools give it (normalised, best first)."""

    name: str
    label: str
    aliases: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.name not in self.aliases:
            object.__setattr__(self, "aliases", (self.name, *self.aliases))


def _listing(columns: list[str]) -> str:
    shown = ", ".join(f'"{c}"' for c in columns[:_LISTED])
    return shown + (f" and {len(columns) - _LISTED} more" if len(columns) > _LISTED else "")


class Columns:
    """Resolves roles to the columns of one file; remembers which columns are taken."""

    def __init__(self, source: SourceTable) -> None:
        self.source = source
        self.by_norm: dict[str, str] = {}
        for column in source.columns:
            self.by_norm.setdefault(normalise(column), column)
        self.taken: list[str] = []

    def _suggest(self, wanted: tuple[str, ...]) -> str | None:
        names = list(self.by_norm)
        for alias in wanted:
            close = difflib.get_close_matches(alias, names, n=1, cutoff=0.75)
            if close:
                return self.source.file_name(self.by_norm[close[0]])
        return None

    def explicit(self, name: str, option: str) -> str:
        """The column an option names, matched exactly, then ignoring case."""
        if name in self.source.columns:
            return self._take(name)
        folded = {c.casefold(): c for c in self.source.columns}
        if name.casefold() in folded:
            return self._take(folded[name.casefold()])
        close = difflib.get_close_matches(name, self.source.columns, n=1, cutoff=0.5)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise ImportFileError(
            self.source.label,
            f'no column "{name}" (given with {option}); the columns are: '
            f"{_listing(self.source.columns)}{hint}",
        )

    def find(self, role: Role, *, required: bool = False, hint: str = "") -> str | None:
        """The first column named like the role, or None; required roles raise instead."""
        for alias in role.aliases:
            column = self.by_norm.get(alias)
            if column is not None and column not in self.taken:
                return self._take(column)
        if not required:
            return None
        self.missing(role.label, role.aliases, hint)
        raise AssertionError("unreachable")

    def missing(self, label: str, aliases: tuple[str, ...], hint: str = "") -> None:
        looked = ", ".join(f'"{a}"' for a in aliases[:6]) + (", …" if len(aliases) > 6 else "")
        close = self._suggest(aliases)
        suggestion = f'; did you mean "{close}"?' if close else ""
        fix = hint or "rename the column, or map it with --mapping"
        raise ImportFileError(
            self.source.label,
            f"no {label} column (looked for {looked}); the columns are: "
            f"{_listing([self.source.file_name(c) for c in self.source.columns])}{suggestion} "
            f"({fix})",
        )

    def _take(self, column: str) -> str:
        if column not in self.taken:
            self.taken.append(column)
        return column

    def rest(self) -> list[str]:
        """Columns no role took, in file order: they become properties or traits."""
        return [c for c in self.source.columns if c not in self.taken]
