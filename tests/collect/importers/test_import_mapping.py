"""Mapping files: another tool's column names, validated with the file, line and key in errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.collect.importers.conftest import Cli, write_csv

Stored = Callable[..., list[dict[str, Any]]]


def gestionale(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "ordini.csv",
        [
            ["Numero Ordine", "Codice Cliente", "Data Ordine", "Totale Documento", "Agente"],
            ["2024/001", "C0042", "01/03/2024", "1.234,50", "Bianchi"],
        ],
        delimiter=";",
    )


def test_a_mapping_renames_columns(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    mapping = tmp_path / "gestionale.yaml"
    mapping.write_text(
        'columns:\n  "Numero Ordine": order_id\n  "Codice Cliente": erp_id\n'
        '  "Data Ordine": ordered_at\n  "Totale Documento": total\n  "Colonna Assente": status\n'
    )
    result = cli("import", "orders", gestionale(tmp_path), "--mapping", mapping)
    assert result.code == 0, result.err
    [row] = stored()
    assert row["user_id"] == "C0042" and row["ts"] == datetime(2024, 3, 1)
    assert row["properties"] == {
        "order_id": "2024/001",
        "total": 1234.5,
        "currency": "EUR",
        "lines": [],
        "agente": "Bianchi",
    }
    assert row["traits"] == {"erp_id": "C0042"}


def test_errors_in_a_mapped_column_name_the_column_as_written_in_the_file(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "ordini.csv",
        [["Numero Ordine", "Codice Cliente", "Data Ordine", "Totale"], ["1", "C1", "ieri", "1"]],
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text('columns: {"Numero Ordine": order_id, "Data Ordine": ordered_at}\n')
    assert cli("import", "orders", path, "--mapping", mapping).error.startswith(
        'ordini.csv: row 2, column "Data Ordine": "ieri" is not a date/time'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "columns: [a, b\n",
            "m.yaml: line 2: not valid YAML (expected ',' or ']', but got '<stream end>')",
        ),
        ("", 'm.yaml: is empty; write a "columns:" mapping of file column -> Percorso name'),
        ("- a\n- b\n", 'm.yaml: must be a mapping with a "columns:" key'),
        ("colums:\n  A: b\n", 'm.yaml: line 1, key "colums": unknown key; did you mean "columns"?'),
        ("source: crm\n", 'm.yaml: line 1, key "source": unknown key; the only key is "columns"'),
        ("columns: 3\n", 'm.yaml: line 1, key "columns": Input should be a valid dictionary'),
        (
            "columns:\n  A: ok\n  B: [x]\n",
            'm.yaml: line 3, key "columns.B": Input should be a valid string',
        ),
        (
            "columns:\n  A: ok\n  B: '  '\n",
            'm.yaml: line 3, key "columns.B": String should have at least 1 character',
        ),
        (
            "columns:\n  A: email\n  B: email\n",
            'm.yaml: line 1, key "columns": "A" and "B" both become "email"; a column can come from one only',
        ),
    ],
)
def test_bad_mapping_files(
    cli: Cli, stored: Stored, tmp_path: Path, text: str, message: str
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text)
    result = cli("import", "orders", gestionale(tmp_path), "--mapping", mapping)
    assert result.code == 2
    assert result.error == message
    assert stored() == []


def test_missing_mapping_file(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = cli("import", "orders", gestionale(tmp_path), "--mapping", missing)
    assert (result.code, result.error) == (2, f"{missing}: no such mapping file")


def test_a_mapping_onto_a_column_the_file_already_has(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv", [["id", "email", "E-mail ufficio"], ["1", "a@b.it", "c@d.it"]]
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text('columns: {"E-mail ufficio": email}\n')
    result = cli("import", "contacts", path, "--mapping", mapping)
    assert (result.code, result.error) == (
        2,
        'm.yaml: key "columns.E-mail ufficio": c.csv already has a column "email"; '
        "map that one elsewhere or drop this line",
    )
