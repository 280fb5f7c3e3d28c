"""A built-in pretrained probe's card reaches the run's environment and the report (Reproducibility)."""

from __future__ import annotations

from dataclasses import replace

import torch

from jtask2vec.config import load_suite
from jtask2vec.jobs.environment import run_environment
from jtask2vec.model.probes.me5 import CARD
from jtask2vec.report.render import to_markdown
from jtask2vec.report.sections.environment import provenance_section
from jtask2vec.results import RunResults


def test_probe_card_is_recorded_and_rendered(tiny_probe):
    assert "probe_card" not in run_environment(1.0, torch.device("cpu"), tiny_probe)
    env = run_environment(1.0, torch.device("cpu"), replace(tiny_probe, name="me5-small", card=CARD))
    assert env["probe_card"] == CARD
    text = to_markdown(provenance_section(RunResults(load_suite("demo"), environment=env), []))
    assert "### Probe: me5-small" in text
    assert "dequantised to float32: not the fp32 original" in text and "'query: '" in text
    assert "MIT" in text
