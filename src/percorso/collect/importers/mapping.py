"""Mapping files: rename another tool's columns to the names Percorso knows.

```yaml
columns:
  "Codice Cliente": erp_id
  "Data Ordine": ordered_at
```

Validated with pydantic; an error names the file, the line and the key, like
the journey map's errors do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from percorso.collect.importers.errors import ImportFileError
from percorso.collect.importers.readers import SourceTable
from percorso.yaml_models import YamlFileError, read_yaml, validation_message

ColumnName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ColumnMapping(BaseModel):
    """The content of a `--mapping` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[ColumnName, ColumnName]
    """Column in the file -> name Percorso reads it as (see docs/imports.md)."""

    @model_validator(mode="after")
    def _targets_unique(self) -> ColumnMapping:
        seen: dict[str, str] = {}
        for source, target in self.columns.items():
            if target in seen:
                raise ValueError(
                    f'"{seen[target]}" and "{source}" both become "{target}"; a column can come from one only'
                )
            seen[target] = source
        return self


def load_mapping(path: Path) -> ColumnMapping:
    try:
        data, root = read_yaml(path, "mapping file")
    except YamlFileError as exc:
        # A missing file is named in full; otherwise its name says enough.
        raise ImportFileError(path.name if path.exists() else str(path), exc.problem) from exc
    label = path.name
    if data is None:
        raise ImportFileError(
            label, 'is empty; write a "columns:" mapping of file column -> Percorso name'
        )
    if not isinstance(data, Mapping):
        raise ImportFileError(label, 'must be a mapping with a "columns:" key')
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        raise ImportFileError(
            label, validation_message(exc, ColumnMapping, root, whole="columns")
        ) from exc


def apply_mapping(
    source: SourceTable, mapping: ColumnMapping | None, mapping_label: str
) -> SourceTable:
    """Rename the columns the mapping names; names it lists that the file lacks are ignored.

    A mapping describes a tool's export, and exports of the same tool do not
    always carry every optional column.
    """
    if mapping is None:
        return source
    by_folded = {c.casefold(): c for c in source.columns}
    renames: dict[str, str] = {}
    for wanted, target in mapping.columns.items():
        column = wanted if wanted in source.columns else by_folded.get(wanted.casefold())
        if column is not None and column != target:
            renames[column] = target
    for column, target in renames.items():
        if target in source.columns and target not in renames:
            raise ImportFileError(
                mapping_label,
                f'key "columns.{column}": {source.label} already has a column "{target}"; '
                "map that one elsewhere or drop this line",
            )
    return source.renamed(renames)
