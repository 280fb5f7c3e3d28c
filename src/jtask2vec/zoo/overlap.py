"""Which zoo entries hold the target's own texts: hashes of normalised texts, and the shared share.

A zoo entry keeps the set of its texts' hashes (``texts.sha256``, one 16-hex-digit hash per line, sorted),
so a target is matched by its texts whatever its labels (``neg``/``pos`` or ``0``/``1``), its split, its
file format or its row order. A text is normalised before hashing: Unicode NFKC (full-width and half-width
forms agree), then every run of white space becomes one space and the ends are stripped. A sentence pair
is hashed as its two normalised texts joined by U+001F.

The *share* of an entry is the fraction of the target's distinct texts that the entry also holds. An entry
sharing at least :data:`EXCLUDE_SHARE` of them is left out of the ranking (it was trained on the target);
a smaller non-zero share is reported beside the ranking.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from jtask2vec.tasks.text_inputs import TextInput

EXCLUDE_SHARE = 0.5
HASH_HEX_DIGITS = 16  # 64 bits: a chance collision among a million texts has probability ~3e-8
PAIR_SEPARATOR = "\x1f"


def normalise(text: str) -> str:
    """NFKC, then white space collapsed to single spaces and stripped."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def text_hash(item: TextInput) -> str:
    """The hash of one model input (a text, or a ``(text, text_pair)``) after :func:`normalise`."""
    joined = normalise(item) if isinstance(item, str) else PAIR_SEPARATOR.join(normalise(t) for t in item)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:HASH_HEX_DIGITS]


def text_hashes(inputs: Iterable[TextInput]) -> frozenset[str]:
    return frozenset(text_hash(item) for item in inputs)


def write_hashes(path: Path, hashes: frozenset[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{h}\n" for h in sorted(hashes)), encoding="ascii")


def read_hashes(path: Path) -> frozenset[str]:
    return frozenset(line for line in path.read_text(encoding="ascii").split("\n") if line)


def shared_share(target: frozenset[str], entry: frozenset[str]) -> float:
    """Fraction of the target's distinct texts that ``entry`` holds too (0 for an empty target)."""
    return len(target & entry) / len(target) if target else 0.0
