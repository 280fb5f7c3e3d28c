"""`jtask2vec power --suite S`: how often each claim of the report fires under the null, and its power."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from jtask2vec.cli.app import RunsDirOption, SetOption, SuiteOption, app, console, suite_from_options


@app.command("power")
def power_command(
    suite: SuiteOption,
    runs_dir: RunsDirOption = Path("runs"),
    sims: Annotated[int, typer.Option("--sims", min=1, help="Simulated grids per scenario.")] = 200,
    effect: Annotated[
        float,
        typer.Option(
            "--effect", min=0.0, max=1.0, help="Effect: correlation of the distances with accuracy."
        ),
    ] = 0.8,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    overrides: SetOption = None,
) -> None:
    """Simulate the suite's design under the null (distances independent of transfer) and under an effect,
    and say how often each claim of the report fires: the false-claim rate and the power. Noise levels come
    from the suite's finished run in --runs-dir when there is one, else stated defaults."""
    from jtask2vec.evaluation.power import design_dict, design_from_counts, design_from_transfer, power_table
    from jtask2vec.results import RunResults

    cfg = suite_from_options(suite, overrides)
    folder = runs_dir / cfg.name
    n_distances = len(cfg.evaluation.distances)
    n_others = len(cfg.evaluation.baselines)
    if (folder / "results.json").is_file():
        results = RunResults.load(folder)
        design = design_from_transfer(results.transfer, n_distances=n_distances, n_others=n_others)
        source = f"noise levels from the finished run in {folder}"
    else:
        targets = cfg.target_names
        n_sources = len(cfg.source_names) - (1 if set(cfg.source_names) & set(targets) else 0)
        design = design_from_counts(n_sources, len(targets), len(cfg.seeds), n_distances, n_others)
        source = "stated noise levels (no finished run of this suite in the runs folder)"
    confidence = cfg.evaluation.confidence
    rows = power_table(design, sims=sims, effect=effect, confidence=confidence, seed=seed)
    if as_json:
        payload = {"suite": cfg.name, "design": design_dict(design), "noise_from": source}
        payload |= {"alpha": round(1 - confidence, 10), "claims": rows}
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(
        f"{cfg.name}: {design.n_targets} targets, {design.n_sources} sources each, {design.n_seeds} seed(s), "
        f"{design.n_distances} distances, {design.n_others} other selectors; {source}; "
        f"seed sd {design.sd_seed:.3f}, source sd {design.sd_source:.3f}; {sims} grids per scenario, "
        f"alpha {1 - confidence:.2f}, effect rho {effect:.2f}.",
        highlight=False,
    )
    width = max(len(str(r["claim"])) for r in rows)
    console.print(f"{'claim':<{width}}  {'false claims':>12}  {'power':>6}", highlight=False)
    for r in rows:
        console.print(
            f"{r['claim']!s:<{width}}  {r['false_claim_rate']:>12.3f}  {r['power']:>6.3f}", highlight=False
        )
