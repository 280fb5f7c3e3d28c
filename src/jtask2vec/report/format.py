"""Number and text formatting shared by the tables, the verdict and the renderers.

Every number the report prints goes through these helpers, so a table cell and the verdict sentence that
quotes it agree to the last digit.
"""

from __future__ import annotations

import math
import re
from typing import Any

MISSING = "—"

# Decimals per kind of quantity.
ACC_DECIMALS = 3  # accuracies, macro-F1, transfer gains, evaluation metrics
SIM_DECIMALS = 4  # similarities: raw cosines are often all 0.99+, so 4 decimals tell them apart


def is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def fmt(x: Any, decimals: int = ACC_DECIMALS, signed: bool = False) -> str:
    """``x`` with a fixed number of decimals (``+`` sign if ``signed``); ``—`` for missing values."""
    if is_missing(x):
        return MISSING
    value = float(x)
    if value == 0.0:
        value = 0.0  # no "-0.000"
    text = f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"
    if text.lstrip("+-").strip("0.") == "":  # rounds to zero: drop the sign ("0.000", never "-0.000")
        text = text.lstrip("+-")
    return text


def fmt_mean_std(mean: Any, std: Any, decimals: int = ACC_DECIMALS, signed: bool = False) -> str:
    """``mean ± std``; just ``mean`` when the std is undefined (one seed)."""
    if is_missing(mean):
        return MISSING
    if is_missing(std):
        return fmt(mean, decimals, signed)
    return f"{fmt(mean, decimals, signed)} ± {fmt(std, decimals)}"


def fmt_interval(mean: Any, low: Any, high: Any, decimals: int = ACC_DECIMALS, signed: bool = False) -> str:
    """``mean [low, high]``; ``mean [n/a]`` when the interval is undefined."""
    if is_missing(mean):
        return MISSING
    if is_missing(low) or is_missing(high):
        return f"{fmt(mean, decimals, signed)} [n/a]"
    return f"{fmt(mean, decimals, signed)} [{fmt(low, decimals, signed)}, {fmt(high, decimals, signed)}]"


def fmt_seconds(seconds: float) -> str:
    """A duration for humans: ``42.0 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


_ABS_PATH = re.compile(r"^(?:/|[A-Za-z]:[\\/]|~[\\/])")


def readable(value: Any) -> str:
    """A value as text, with machine-specific absolute paths cut to their last two parts (``…/a/b``)."""
    text = str(value)
    if _ABS_PATH.match(text) and "\n" not in text and " " not in text.strip():
        parts = [p for p in re.split(r"[\\/]", text) if p]
        return "…/" + "/".join(parts[-2:])
    return text


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
