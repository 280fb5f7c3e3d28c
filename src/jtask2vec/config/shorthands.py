"""The shorthands of hand-written suite files, expanded to the full form before validation.

``probe: NAME`` is ``probe: {name: NAME}``; a task ``chabsa`` is ``{name: chabsa, loader: chabsa}``; a task
``{livedoor: {categories: [...]}}`` has one key, the loader (or the task's name, with ``loader:`` inside),
whose mapping holds the loader's options beside the task's own fields (``max_examples:`` ...).
"""

from __future__ import annotations

from typing import Any


def expand_task_shorthand(item: Any, position: int, task_fields: frozenset[str]) -> Any:
    """One entry of ``tasks:`` in full form. Shorthands: ``chabsa`` (a loader id: name = loader) and
    ``{livedoor: {categories: [...]}}`` (one key = the loader, its mapping = the loader's options; a
    ``name:`` and the other TaskSpec fields, e.g. ``max_examples:``, may sit beside the options). With
    ``loader:`` inside, the key is the task's name: ``{ld-it-smax: {loader: livedoor, ...}}``."""
    where = f"tasks[{position}]"
    if isinstance(item, str):
        if not item.strip():
            raise ValueError(f"{where}: empty loader id")
        return {"name": item, "loader": item}
    if not isinstance(item, dict) or "loader" in item or "name" in item:
        return item  # the full form (pydantic reports what is wrong with it)
    if len(item) != 1:
        raise ValueError(
            f"{where}: a task is a loader id, a one-key mapping {{loader: {{options}}}}, or a mapping "
            f"with 'name' and 'loader'; got keys {', '.join(map(str, item))}"
        )
    loader, body = next(iter(item.items()))
    if loader in task_fields:
        raise ValueError(f"{where}: {loader!r} is a task field, not a loader id; add 'name' and 'loader'")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValueError(f"{where}: the options of loader {loader!r} must be a mapping, not {body!r}")
    if "options" in body:
        loose = sorted(set(body) - task_fields)
        if loose:
            raise ValueError(
                f"{where}: ambiguous: both 'options' and loose option(s) {', '.join(loose)} "
                f"for loader {loader!r}; put them all under 'options'"
            )
        return {"name": loader, "loader": loader, **body}
    spec = {k: v for k, v in body.items() if k in task_fields}
    options = {k: v for k, v in body.items() if k not in task_fields}
    return {"name": loader, "loader": loader, **spec, "options": options}


def expand_suite_shorthands(raw: Any, task_fields: frozenset[str]) -> Any:
    """``probe: NAME`` -> ``probe: {name: NAME}`` and the task shorthands of :func:`expand_task_shorthand`."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    if isinstance(out.get("probe"), str):
        out["probe"] = {"name": out["probe"]}
    if isinstance(out.get("tasks"), list):
        out["tasks"] = [expand_task_shorthand(item, i, task_fields) for i, item in enumerate(out["tasks"])]
    return out
