"""The feature-based selectors as one stage: a pure function from (source classifier, target texts and
labels) to ``{selector: score}``, features extracted once and shared by every selector.

| selector           | input                     | module                                            |
| ------------------ | ------------------------- | ------------------------------------------------- |
| ``logme``          | features                  | :mod:`jtask2vec.selection.logme`                  |
| ``hscore``         | features                  | :mod:`jtask2vec.selection.hscore`                 |
| ``hscore-shrinkage`` | features                | :mod:`jtask2vec.selection.shrinkage_hscore`       |
| ``nleep``          | features (+ seed for EM)  | :mod:`jtask2vec.selection.nleep`                  |
| ``gbc``            | features                  | :mod:`jtask2vec.selection.gbc`                    |
| ``transrate``      | features                  | :mod:`jtask2vec.selection.transrate`              |
| ``knn``            | features                  | :mod:`jtask2vec.selection.knn`                    |
| ``leep``           | source head probabilities | :mod:`jtask2vec.selection.leep`                   |
| ``nce``            | source head probabilities | :mod:`jtask2vec.selection.nce`                    |

Every score is higher = better. ``VERSIONS`` holds one version string per selector; bump it whenever a
selector's value changes for the same inputs, so cached scores are recomputed
(see :func:`jtask2vec.jobs.keys.selector_scores_key`).

Each score carries a flag (``""`` when none): ``"not converged"`` (LogME's maximisation stopped at its
iteration limit), ``"rank-deficient"`` (a covariance or Gram matrix with directions at float32 rounding
level: H-scores, LogME's noise-free limit, see each module), or ``"failed: <reason>"`` with a NaN score when
a selector cannot score the pair at all (:func:`score_features_flagged`): one selector's failure never
loses the others' scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from jtask2vec.errors import DataError
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.selection.features import FeatureLayers, TargetFeatures, extract_target_features
from jtask2vec.selection.gbc import gbc
from jtask2vec.selection.hscore import RegularisedTrace, hscore_fit
from jtask2vec.selection.knn import knn_accuracy
from jtask2vec.selection.leep import leep
from jtask2vec.selection.logme import LogMEScore, logme_score
from jtask2vec.selection.nce import nce
from jtask2vec.selection.nleep import nleep
from jtask2vec.selection.shrinkage_hscore import shrinkage_hscore_fit
from jtask2vec.selection.transrate import transrate

# name -> (function of (TargetFeatures, labels, seed), uses the features (True) or only the probabilities).
# A function returns the score, or a LogMEScore / RegularisedTrace that also carries its flag.
Scored = float | LogMEScore | RegularisedTrace
_SCORERS: dict[str, tuple[Callable[[TargetFeatures, np.ndarray, int], Scored], bool]] = {
    "logme": (lambda t, y, s: logme_score(t.features, y), True),
    "hscore": (lambda t, y, s: hscore_fit(t.features, y), True),
    "hscore-shrinkage": (lambda t, y, s: shrinkage_hscore_fit(t.features, y), True),
    "nleep": (lambda t, y, s: nleep(t.features, y, seed=s), True),
    "gbc": (lambda t, y, s: gbc(t.features, y), True),
    "transrate": (lambda t, y, s: transrate(t.features, y), True),
    "knn": (lambda t, y, s: knn_accuracy(t.features, y), True),
    "leep": (lambda t, y, s: leep(t.probabilities, y), False),
    "nce": (lambda t, y, s: nce(t.probabilities, y), False),
}
FEATURE_SELECTORS: tuple[str, ...] = tuple(_SCORERS)
# 2: H-scores regularised at float32 rounding (were rank-branching pseudo-inverses); LogME's rank cut-off
# from float32 precision and its rank-deficient noise-free limit (was an error); NLEEP's mixture on
# scale-free features; GBC's variance floor from float32 precision.
VERSIONS: dict[str, str] = {name: "1" for name in FEATURE_SELECTORS} | {
    name: "2" for name in ("logme", "hscore", "hscore-shrinkage", "nleep", "gbc")
}
FAILED = "failed"  # flag prefix of a selector that could not score a pair: "failed: <reason>", score NaN
# What a selector that cannot score a pair raises (bad or degenerate input, a numerical breakdown)
SELECTOR_FAILURES = (DataError, ValueError, ArithmeticError, np.linalg.LinAlgError)
SEEDED: frozenset[str] = frozenset({"nleep"})  # selectors whose value depends on the seed given


def uses_features(selector: str) -> bool:
    """True if ``selector`` reads the pooled features (so the feature layers matter), False for LEEP/NCE."""
    return _SCORERS[selector][1]


def score_inputs(selectors: Sequence[str], layers: str, seed: int) -> dict[str, Any]:
    """The selector-specific inputs of cached scores (the rest is in
    :func:`jtask2vec.jobs.keys.selector_scores_key`): each selector's version, the feature layers (when a
    selector reads the features) and the seed (when a selector is seeded)."""
    unknown = [s for s in selectors if s not in _SCORERS]
    if unknown:
        raise ValueError(f"unknown feature-based selectors {unknown}; known: {', '.join(FEATURE_SELECTORS)}")
    inputs: dict[str, Any] = {"selectors": {name: VERSIONS[name] for name in sorted(selectors)}}
    if any(uses_features(s) for s in selectors):
        inputs["layers"] = layers
    if any(s in SEEDED for s in selectors):
        inputs["seed"] = seed
    return inputs


@dataclass(frozen=True)
class SelectorScore:
    """A selector's score with its caveat: ``flag`` is ``""`` or e.g. ``"not converged"`` (LogME), kept
    with the cached value and shown in the evaluation every time."""

    score: float
    flag: str = ""

    @classmethod
    def of(cls, value: Scored) -> SelectorScore:
        if isinstance(value, LogMEScore):
            return cls(float(value.score), value.flag)
        if isinstance(value, RegularisedTrace):
            return cls(float(value.value), value.flag)
        return cls(float(value))

    @classmethod
    def failed(cls, error: BaseException) -> SelectorScore:
        """A missing score (NaN) flagged ``"failed: <reason>"`` (the reason on one line)."""
        reason = " ".join(str(error).split()) or type(error).__name__
        return cls(float("nan"), f"{FAILED}: {reason}")

    @property
    def missing(self) -> bool:
        return self.flag.startswith(f"{FAILED}:")


def scores_to_json(values: dict[str, SelectorScore]) -> dict[str, dict[str, Any]]:
    """``{selector: {"score", "flag"}}`` as stored in a selector-score artifact (a missing score is null)."""
    return {
        name: {"score": None if np.isnan(v.score) else float(v.score), "flag": v.flag}
        for name, v in values.items()
    }


def scores_from_json(stored: dict[str, Any]) -> dict[str, SelectorScore]:
    """The inverse of :func:`scores_to_json` (null -> NaN)."""
    return {
        name: SelectorScore(float("nan") if v["score"] is None else float(v["score"]), str(v["flag"]))
        for name, v in stored.items()
    }


def _score_one(selector: str, features: TargetFeatures, labels: np.ndarray, seed: int) -> SelectorScore:
    try:
        return SelectorScore.of(_SCORERS[selector][0](features, labels, seed))
    except SELECTOR_FAILURES as error:
        return SelectorScore.failed(error)


def score_features_flagged(
    selectors: Sequence[str], features: TargetFeatures, labels: np.ndarray, *, seed: int = 0
) -> dict[str, SelectorScore]:
    """``{selector: SelectorScore}`` of already extracted ``features`` for the target ``labels`` (N,).

    A selector that cannot score these inputs gives :meth:`SelectorScore.failed` (NaN, flagged with its
    reason); the other selectors are scored all the same."""
    unknown = [s for s in selectors if s not in _SCORERS]
    if unknown:
        raise ValueError(f"unknown feature-based selectors {unknown}; known: {', '.join(FEATURE_SELECTORS)}")
    y = np.asarray(labels)
    return {s: _score_one(s, features, y, seed) for s in selectors}


def score_features(
    selectors: Sequence[str], features: TargetFeatures, labels: np.ndarray, *, seed: int = 0
) -> dict[str, float]:
    """``{selector: score}`` of already extracted ``features`` for the target ``labels`` (N,)."""
    return {s: v.score for s, v in score_features_flagged(selectors, features, labels, seed=seed).items()}


def feature_selector_scores(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: np.ndarray,
    selectors: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 64,
    layers: FeatureLayers = "last",
    seed: int = 0,
) -> dict[str, SelectorScore]:
    """One forward pass of the source ``model`` over the target's ``texts``, then every selector."""
    if not selectors:
        return {}
    features = extract_target_features(model, tokenizer, texts, max_length, batch_size, layers)
    return score_features_flagged(selectors, features, labels, seed=seed)


def split_feature_selectors(wanted: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(feature-based, others)`` among ``wanted``, order kept."""
    return [s for s in wanted if s in _SCORERS], [s for s in wanted if s not in _SCORERS]
