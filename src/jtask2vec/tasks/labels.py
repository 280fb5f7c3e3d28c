"""Label values of a user's file mapped to 0/1: by the ``positive``/``negative`` options (comma-separated
values, ``*`` for "every other value"), or automatically when the file holds exactly two distinct values
(sorted; numerically when both are numbers, so ``0/1``, ``-1/1``, ``1/2`` and ``neg/pos`` all map the
smaller to 0). Values listed in ``drop`` are dropped, and counted."""

from __future__ import annotations

from jtask2vec.errors import ConfigError, DataError


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


WILDCARD = "*"


def map_labels(
    raw: list[str],
    lines: list[tuple[str, int | None]],
    *,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    drop: tuple[str, ...],
    label_names: tuple[str, ...],
    field: str,
) -> tuple[list[int | None], tuple[str, str]]:
    """Map raw label values to 1 / 0 / ``None`` (dropped), with the rules in the module docstring.

    With ``positive`` and/or ``negative`` given, a value in neither set (nor in ``drop``) is a DataError at
    its line, unless the other side is the wildcard ``"*"`` (``negative=("*",)``: every other value is 0).
    Without either, a third distinct value is a DataError at its line.
    """
    pos, neg, dropped = set(positive), set(negative), set(drop)
    if pos & neg:
        raise ConfigError(f"label value(s) {', '.join(sorted(pos & neg))} are both positive and negative")
    if WILDCARD in pos and WILDCARD in neg:
        raise ConfigError("positive and negative cannot both be '*'")
    for side in (pos, neg):
        if WILDCARD in side and len(side) > 1:
            raise ConfigError("'*' (every other value) must be the only value of positive or negative")
    out: list[int | None] = []
    if pos or neg:
        for value, (file, line) in zip(raw, lines, strict=True):
            if value in dropped:
                out.append(None)
            elif value in pos:
                out.append(1)
            elif value in neg or WILDCARD in neg:
                out.append(0)
            elif WILDCARD in pos:
                out.append(1)
            else:
                raise DataError(
                    f"label {value!r} is neither positive ({', '.join(sorted(pos)) or '-'}) nor negative "
                    f"({', '.join(sorted(neg)) or '-'})",
                    path=file,
                    line=line,
                    field=field,
                    hint="list it in positive, negative or drop, or map every other value with "
                    "negative='*' (or positive='*')",
                )
        names = (
            "|".join(sorted(neg, key=_sort_key)) if neg and WILDCARD not in neg else "other",
            "|".join(sorted(pos, key=_sort_key)) if pos and WILDCARD not in pos else "other",
        )
    else:
        seen: list[str] = []
        for value, (file, line) in zip(raw, lines, strict=True):
            if value in dropped or value in seen:
                continue
            if len(seen) == 2:
                raise DataError(
                    f"label {value!r} is a third distinct value (after {seen[0]!r}, {seen[1]!r}); "
                    "a task is binary",
                    path=file,
                    line=line,
                    field=field,
                    hint="map values with the positive/negative options or list extra ones in drop",
                )
            seen.append(value)
        if len(seen) == 1:
            file, _ = lines[0]
            raise DataError(
                f"only one label value ({seen[0]!r}) in the file; a task needs two classes",
                path=file,
                field=field,
            )
        order = sorted(seen, key=_sort_key)
        index = {v: i for i, v in enumerate(order)}
        out = [None if v in dropped else index[v] for v in raw]
        names = (order[0] if order else "0", order[1] if len(order) > 1 else "1")
    if label_names:
        if len(label_names) != 2:
            raise ConfigError("option 'label_names' needs exactly two names (negative,positive)")
        names = (label_names[0], label_names[1])
    return out, names


def label_options(
    positive: tuple[str, ...], negative: tuple[str, ...], drop: tuple[str, ...], label_names: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    def strings(values: tuple[str, ...] | str | int) -> tuple[str, ...]:
        # YAML may give a scalar or numbers (positive: [4, 5]); labels are compared as stripped strings.
        if isinstance(values, (str, int, float)):
            values = (values,)  # type: ignore[assignment]
        return tuple(str(v).strip() for v in values)  # type: ignore[union-attr]

    return {
        "positive": strings(positive),
        "negative": strings(negative),
        "drop": strings(drop),
        "label_names": strings(label_names),
    }
