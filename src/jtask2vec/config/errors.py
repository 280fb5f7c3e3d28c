"""How a suite's problems read to a person.

Every problem of a suite file is shown at once, each with the YAML line it sits on; a value that came
from a flag (``--workers 0``, ``--set probe.nmae=x``) is blamed on the flag, not on the file; an unknown
key gets a "did you mean" from the fields that exist at that place.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from jtask2vec.errors import ConfigError

# pydantic puts the branch of a union into an error's location ('int', "literal['auto']", a model name).
_UNION_TAG = re.compile(r"^(int|str|float|bool|none|[a-z-]+\[.*\]|[A-Z]\w*)$")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'name'?)"`` for the closest of ``choices``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def model_at(root: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that holds the fields at ``path`` below ``root`` (list indices skipped), if any."""
    model: type[BaseModel] | None = root
    for part in path:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _model_of(model.model_fields[part].annotation)
    return model


def clean_location(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    return tuple(p for p in loc if isinstance(p, int) or not _UNION_TAG.match(p))


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in loc)


def yaml_line(text: str | None, loc: Sequence[str | int]) -> int | None:
    """The line (1-based) of ``loc`` in the suite's YAML ``text``, following the task shorthands
    (``- livedoor: {categories: ...}``: the options sit in the one key's mapping); the deepest part of
    ``loc`` that is in the file when the rest is not."""
    if text is None:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = None
    for part in loc:
        child = _child(node, part)
        if child is None and isinstance(node, yaml.MappingNode) and len(node.value) == 1:
            inner = node.value[0][1]  # a shorthand task: {loader: {options and fields}}
            child = _child(inner, part) if part != "options" else inner
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
    return None


def flag_for(loc: str, flags: Mapping[str, str]) -> str | None:
    """The flag (as the user typed it) that set the value at ``loc``, if one did."""
    for key, flag in flags.items():
        if loc == key or loc.startswith(key + ".") or key.startswith(loc + "."):
            return flag
    return None


def problem_lines(
    exc: ValidationError,
    root: type[BaseModel],
    origin: str,
    text: str | None = None,
    flags: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per problem of ``exc``: ``FILE:LINE: field 'a.b': what is wrong`` or ``--flag: ...``."""
    lines: list[str] = []
    seen: set[tuple[str | int, ...]] = set()
    for error in exc.errors():
        loc = clean_location(error["loc"])
        if loc in seen:  # the other branches of a union: one problem
            continue
        seen.add(loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and loc:
            holder = model_at(root, loc[:-1])
            known = list(holder.model_fields) if holder is not None else []
            hint = did_you_mean(str(loc[-1]), known)
            message = f"unknown key{hint}" + (
                f"; known keys: {', '.join(known)}" if not hint and known else ""
            )
        flag = flag_for(dotted(loc), flags or {})
        if flag is not None:
            lines.append(f"{flag}: {message}")
            continue
        line = yaml_line(text, loc)
        where = f"{origin}:{line}" if line is not None else origin
        lines.append(f"{where}: field {dotted(loc)!r}: {message}" if loc else f"{where}: {message}")
    return lines


def suite_error(origin: str, lines: list[str]) -> ConfigError:
    """One line for one problem, else a count and one line per problem."""
    if len(lines) == 1:
        return ConfigError(lines[0])
    return ConfigError(f"{origin}: {len(lines)} problems:\n" + "\n".join(f"  {line}" for line in lines))
