"""YAML files read into pydantic models, with errors that name file, line and key.

Used by every file a user writes by hand (import mappings, identity rules,
journey maps): a mistake must point at the line to fix and, for a misspelt
key, at the key that was meant.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from percorso.errors import UserError

M = TypeVar("M", bound=BaseModel)


class YamlFileError(UserError):
    """A hand-written YAML file is wrong; the message starts with the file's name."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")
        self.label = label
        self.problem = problem


def line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the YAML node a pydantic error location points at (1-based)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(key):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds (directly, in a list, or as a dict's values); is it a dict?"""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = getattr(annotation, "__origin__", None)
    for arg in reversed(getattr(annotation, "__args__", ())):
        found, _ = _model_in(arg)
        if found is not None:
            return found, origin is dict
    return None, False


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where `loc` points, for a did-you-mean."""
    current: type[BaseModel] | None = model
    skip_key = False
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if skip_key:  # a key of a mapping (a kind's name), not a field
            skip_key = False
            continue
        if current is None or part not in current.model_fields:
            return []
        current, skip_key = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None and not skip_key else []


def read_yaml(path: Path, what: str) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; `what` names it in errors ("identity rules file")."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise YamlFileError(label, f"no such {what}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlFileError(label, f"cannot be read as a {what} ({exc})") from exc
    return parse_yaml(text, label)


def parse_yaml(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text (a file's, or a request body's); `label` names it in errors."""
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError(label, f"{where}not valid YAML ({problem})") from exc


def validation_message(
    exc: ValidationError,
    model: type[BaseModel],
    root: yaml.Node | None,
    *,
    whole: str = "(top level)",
) -> str:
    """The first error of a validation, as `line N, key "a.b": what is wrong`.

    `whole` is the key named by an error about the whole file (a model validator's).
    """
    # A misspelt key is both "unknown" and "the right one is missing": the first says more.
    first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(first["loc"])
    key = ".".join(str(part) for part in loc) or whole
    line = line_of(root, loc)
    message = str(first["msg"])
    if first["type"] == "extra_forbidden":
        allowed = _fields_at(model, loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            message = f'unknown key; did you mean "{close[0]}"?'
        elif len(allowed) == 1:
            message = f'unknown key; the only key is "{allowed[0]}"'
        elif allowed:
            message = "unknown key; allowed here: " + ", ".join(allowed)
        else:
            message = "unknown key"
    elif first["type"] == "missing":
        message = "is missing"
    elif first["type"] == "literal_error":
        allowed_values = re.findall(r"'([^']*)'", str(first.get("ctx", {}).get("expected", "")))
        given = str(first.get("input"))
        close = difflib.get_close_matches(given, allowed_values, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        message = f'"{given}" is not allowed{hint} (allowed: {", ".join(allowed_values)})'
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    where = f"line {line}, " if line is not None else ""
    return f'{where}key "{key}": {message}'


def load_model(path: Path, model: type[M], what: str) -> M:
    """Read `path` into `model`; every problem is a `YamlFileError` naming line and key."""
    data, root = read_yaml(path, what)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise YamlFileError(str(path), f"a {what} must be a mapping of keys to values")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise YamlFileError(str(path), validation_message(exc, model, root)) from exc
