"""How sure a zoo ranking is: the ranking repeated over (target seed × zoo seed) pairs.

The target is fine-tuned and embedded with several seeds, and each of its vectors is compared with each
zoo seed's entry vectors. Every such *pair* gives one ranking: per TASK2VEC distance the sources' ranks
(1 = closest, ties share the lower rank), and their mean over the distances (the pair's consensus); its
first source (ties by name) is the pair's *top pick*.

Per source: the mean of its consensus rank over the pairs with its range (min–max), the mean of every
distance with its range, and in how many pairs it is the top pick. Label polarity, the fine-tuning seed
and the Fisher sample all act as noise on a single ranking; the pairs show how much.

Verdict: a *clear pick* is the source that is top in at least :data:`CLEAR_PICK_SHARE` of at least
:data:`MIN_PAIRS` pairs, for a target the probe learned (:mod:`jtask2vec.zoo.describe`); otherwise "no
clear pick" (randomly labelled data, which the probe cannot learn, never gets a recommendation). The
pairs that share a target seed (or a zoo seed) are not independent, so the share is a description of
stability, not a test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

CLEAR_PICK_SHARE = 0.7
MIN_PAIRS = 3
PAIR_KEYS = ["seed", "zoo_seed"]


def pair_ranks(values: pd.DataFrame, distances: list[str]) -> pd.DataFrame:
    """``(seed, zoo_seed, source, rank)``: each source's mean rank over ``distances`` in each pair."""
    d = values[values["selector"].isin(distances)].copy()
    d["rank"] = d.groupby(["selector", *PAIR_KEYS])["value"].rank(method="min", ascending=True)
    return d.groupby([*PAIR_KEYS, "source"], as_index=False)["rank"].mean()


def top_picks(ranks: pd.DataFrame) -> pd.DataFrame:
    """One row per pair: its top pick (lowest consensus rank, ties by name)."""
    ordered = ranks.sort_values([*PAIR_KEYS, "rank", "source"], kind="stable")
    return ordered.groupby(PAIR_KEYS, as_index=False).first()[[*PAIR_KEYS, "source"]]


def source_stability(values: pd.DataFrame, distances: list[str]) -> pd.DataFrame:
    """Per source: ``pair_rank`` mean / ``pair_rank_low`` / ``pair_rank_high`` over the pairs, ``top`` (pairs
    where it is the top pick), ``pairs``, and every distance's ``<d>:low`` / ``<d>:high`` over the pairs."""
    ranks = pair_ranks(values, distances)
    tops = top_picks(ranks)["source"].value_counts()
    n_pairs = int(ranks[PAIR_KEYS].drop_duplicates().shape[0])
    out = ranks.groupby("source")["rank"].agg(pair_rank="mean", pair_rank_low="min", pair_rank_high="max")
    out["top"] = [int(tops.get(s, 0)) for s in out.index]
    out["pairs"] = n_pairs
    d = values[values["selector"].isin(distances)]
    spread = d.groupby(["source", "selector"])["value"].agg(["min", "max"]).unstack("selector")
    for s in distances:
        out[f"{s}:low"] = spread[("min", s)]
        out[f"{s}:high"] = spread[("max", s)]
    return out.reset_index()


@dataclass(frozen=True)
class Verdict:
    """``clear``: one source is top in at least CLEAR_PICK_SHARE of at least MIN_PAIRS pairs."""

    source: str  # the source top most often (ties by the table order)
    top: int
    pairs: int
    runner_up: str | None
    runner_up_top: int
    learned: bool = True  # the target's own fine-tune beat the majority class

    @property
    def stable(self) -> bool:
        return self.pairs >= MIN_PAIRS and self.top >= math.ceil(CLEAR_PICK_SHARE * self.pairs - 1e-9)

    @property
    def clear(self) -> bool:
        return self.learned and self.stable

    @property
    def category(self) -> str:
        return f"clear pick {self.source}" if self.clear else "no clear pick"

    def support(self) -> str:
        return f"top in {self.top} of {self.pairs} (seed × zoo-seed) pairs"

    def line(self) -> str:
        if self.clear:
            return f"Recommendation: start from {self.source!r} — {self.support()}"
        if not self.learned:
            why = (
                "the probe did not learn the target (see the warning), so its distances say little; "
                f"{self.source!r} was {self.support()}"
            )
        elif self.pairs < MIN_PAIRS:
            why = f"{self.pairs} (seed × zoo-seed) pair(s) cannot show a stable top (use --seeds 3 or more)"
        else:
            why = f"the top source changes with the seed: {self.source!r} {self.support()}"
            if self.runner_up is not None and self.runner_up_top:
                why += f", {self.runner_up!r} in {self.runner_up_top}"
        return f"No clear pick: {why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "category": "clear pick" if self.clear else "no clear pick",
            "source": self.source if self.clear else None,
            "most_often_top": self.source,
            "top": self.top,
            "pairs": self.pairs,
            "stable": self.stable,
            "target_learned": self.learned,
            "threshold": {"share": CLEAR_PICK_SHARE, "min_pairs": MIN_PAIRS},
        }


def verdict(table: pd.DataFrame, *, learned: bool = True) -> Verdict:
    """The verdict of a table ordered by ``top`` (descending), as :func:`order` leaves it."""
    first = table.iloc[0]
    second = table.iloc[1] if len(table) > 1 else None
    return Verdict(
        source=str(first["source"]),
        top=int(first["top"]),
        pairs=int(first["pairs"]),
        runner_up=None if second is None else str(second["source"]),
        runner_up_top=0 if second is None else int(second["top"]),
        learned=learned,
    )


def order(table: pd.DataFrame) -> pd.DataFrame:
    """Sources by how often they are the top pick, then by mean consensus rank over pairs, then name."""
    return table.sort_values(
        ["top", "pair_rank", "source"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
