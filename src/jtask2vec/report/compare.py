"""Two finished runs side by side: does a conclusion of the study change between them?

Written for the questions that need two runs — does similarity predict transfer better when targets are
limited to a few hundred examples than at full size; does giving every task the same training size change
the verdict — but generic over any two saved run folders (:meth:`RunResults.load`).

For each headline metric and selector: run A's and run B's ``mean [CI]`` (from their evaluation tables; the
intervals are over seeds: stability) and the difference ``B − A`` tested over targets with
:func:`jtask2vec.evaluation.claims.runs_difference` — each target's metric averaged over its seeds; paired
sign-flip (max-T over the selectors compared) on the targets the runs share, else an unpaired permutation
test on each run's targets (Holm). Then the conclusions of each run (best TASK2VEC distance, TASK2VEC against
chance over targets, targets that gain from transfer, same-kind grouping) with whether they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jtask2vec.errors import ConfigError
from jtask2vec.evaluation.claims import RANDOM_EXPECTED, Claim, distances_in, runs_difference
from jtask2vec.report.data import ReportData, collect
from jtask2vec.report.findings import (
    DistanceFinding,
    cell_text,
    distance_findings,
    targets_beating_baseline,
)
from jtask2vec.report.format import MISSING, fmt, fmt_interval, is_missing, join_words
from jtask2vec.report.render import Block, Bullets, Cell, Heading, Paragraph, Table, to_html, to_markdown
from jtask2vec.report.sections.kinds import p_text
from jtask2vec.results import RunResults
from jtask2vec.store.artifacts import atomic_write_text


def _differences(da: ReportData, db: ReportData, metric: str, selectors: list[str]) -> dict[str, Claim]:
    """B − A over targets for ``selectors`` on ``metric`` (the same test as the power simulation's)."""
    wa, wb = da.metric_tables.get(metric), db.metric_tables.get(metric)
    if wa is None or wb is None or not selectors:
        return {}
    found = runs_difference(wa, wb, metric, selectors, confidence=min(da.confidence, db.confidence))
    return {c.subject: c for c in found}


def _difference_text(c: Claim | None) -> str:
    if c is None or is_missing(c.mean_diff):
        return MISSING
    p = "p n/a" if is_missing(c.p_adjusted) else f"p {fmt(c.p_adjusted)}"
    interval = fmt_interval(c.mean_diff, c.ci_low, c.ci_high, signed=True)
    if is_missing(c.ci_low):
        interval = fmt(c.mean_diff, signed=True)
    return f"{interval}, {p}"


def _run_line(label: str, results: RunResults, data: ReportData) -> str:
    suite = results.suite
    return (
        f"{label}: suite {suite.name} — {len(data.order)} tasks, probe {suite.probe.name}, "
        f"{len(data.seeds)} seed(s)" + (f"; {suite.description}" if suite.description else "")
    )


def _metric_table(metric: str, da: ReportData, db: ReportData, labels: tuple[str, str]) -> Table | None:
    ga, gb = da.evaluation, db.evaluation
    if ga is None or gb is None or metric not in ga.mean.columns or metric not in gb.mean.columns:
        return None
    selectors = [s for s in ga.mean.index if s in gb.mean.index and s != RANDOM_EXPECTED]
    diffs = _differences(da, db, metric, selectors)
    rows = [
        [
            Cell(sel),
            Cell(cell_text(ga, sel, metric)),
            Cell(cell_text(gb, sel, metric)),
            Cell(_difference_text(diffs.get(sel)), bold=bool(diffs.get(sel) and diffs[sel].called)),
        ]
        for sel in selectors
    ]
    test = next(iter(diffs.values())).test if diffs else "not testable"
    return Table(
        ["selector", labels[0], labels[1], f"{labels[1]} − {labels[0]} over targets"],
        rows,
        caption=f"{metric}: mean [CI over seeds] in each run and the difference over targets ({test})",
    )


def _finding_text(f: DistanceFinding | None) -> str:
    if f is None:
        return MISSING
    return f"{join_words(f.best)} {f.best_text}"


def _kind_text(data: ReportData) -> str:
    name = data.cluster_distance
    test = data.kind_tests.get(name) if name else None
    if test is None:
        return MISSING
    closer = test.difference > 0 and test.p_value < 1.0 - data.confidence
    return f"{'yes' if closer else 'no'} ({name}, p {p_text(test.p_value, test.n_permutations, test.exact)})"


def _prediction_sentences(da: ReportData, db: ReportData, labels: tuple[str, str]) -> list[str]:
    """Does TASK2VEC similarity predict transfer better in run B than in run A? On Spearman (else the first
    headline metric both runs have), for the best TASK2VEC distance of either run, tested over targets with
    max-T over the distances both runs have (so picking the best one is part of the test)."""
    fa = {f.metric: f for f in distance_findings(da.evaluation, da.claims)}
    fb = {f.metric: f for f in distance_findings(db.evaluation, db.claims)}
    shared = [m for m in fa if m in fb]
    if not shared:
        return []
    metric = next((m for m in shared if m.lower().startswith("spearman")), shared[0])
    distances = [s for s in da.evaluation.mean.index if s in db.evaluation.mean.index]
    diffs = _differences(da, db, metric, distances_in(distances))
    out = []
    for sel in dict.fromkeys([*fa[metric].best[:1], *fb[metric].best[:1]]):
        c = diffs.get(sel)
        if c is None or is_missing(c.mean_diff):
            continue
        if c.verdict == "cannot be tested":
            verdict = "cannot be tested (fewer than 2 targets)"
        elif c.called:
            verdict = f"{c.verdict} in {labels[1]} over targets"
        else:
            verdict = "not distinguishable over targets"
        out.append(
            f"Does similarity predict transfer better in {labels[1]} than in {labels[0]}? On {metric}, {sel} "
            f"goes from {cell_text(da.evaluation, sel, metric)} to {cell_text(db.evaluation, sel, metric)}: "
            f"difference {_difference_text(c)} ({c.test}), {verdict}."
        )
    return out


def _conclusions(
    a: RunResults, b: RunResults, da: ReportData, db: ReportData
) -> list[tuple[str, str, str, bool | None]]:
    """``(question, answer A, answer B, same?)`` rows."""
    fa = {f.metric: f for f in distance_findings(da.evaluation, da.claims)}
    fb = {f.metric: f for f in distance_findings(db.evaluation, db.claims)}
    out: list[tuple[str, str, str, bool | None]] = []
    for metric in (
        [m for m in fa if m in fb] + [m for m in fb if m not in fa] + [m for m in fa if m not in fb]
    ):
        x, y = fa.get(metric), fb.get(metric)
        same = None if x is None or y is None else bool(set(x.best) & set(y.best))
        out.append((f"best TASK2VEC distance on {metric}", _finding_text(x), _finding_text(y), same))
        rx = x.versus_random if x and x.versus_random else MISSING
        ry = y.versus_random if y and y.versus_random else MISSING
        known = MISSING not in (rx, ry) and "n/a" not in (rx, ry)
        out.append((f"best distance vs chance on {metric}", rx, ry, (rx == ry) if known else None))
    ka, kb = targets_beating_baseline(a), targets_beating_baseline(b)
    share = [MISSING if k is None else f"{k[0]} of {k[1]}" for k in (ka, kb)]
    same_share = None if ka is None or kb is None else (ka[0] > 0) == (kb[0] > 0)
    out.append(("targets whose best transfer beats no transfer", share[0], share[1], same_share))
    kind_a, kind_b = _kind_text(da), _kind_text(db)
    same_kind = None if MISSING in (kind_a, kind_b) else kind_a.split(" ")[0] == kind_b.split(" ")[0]
    out.append(("same-kind tasks closer", kind_a, kind_b, same_kind))
    return out


SAME_WORDS = {True: "same", False: "changed", None: "n/a"}


def conclusions_summary(rows: list[tuple[str, str, str, bool | None]]) -> str:
    """One sentence: which conclusions change between the runs, and which cannot be compared."""
    changed = [q for q, _, _, s in rows if s is False]
    open_ = [q for q, _, _, s in rows if s is None]
    summary = (
        f"The conclusions differ on: {'; '.join(changed)}."
        if changed
        else "No conclusion changes between the two runs where both can be judged."
    )
    if open_:
        summary += f" Not comparable (missing in a run, or no intervals): {'; '.join(open_)}."
    return summary


Collected = tuple[ReportData, ReportData]  # ``collect(a), collect(b)``, when the caller has them already


def _regime_text(size: int | None) -> str:
    return "natural size" if size is None else str(size)


def design_differences(a: RunResults, b: RunResults) -> list[str]:
    """What differs between the designs of runs ``a`` and ``b`` (``probe ja-imitator → me5-small``, ...):
    what a changed conclusion may be owed to. Empty when the designs agree on all of it."""
    sa, sb = a.suite, b.suite
    pairs = [
        ("probe", sa.probe.name, sb.probe.name),
        ("max_length", sa.probe.max_length, sb.probe.max_length),
        ("tasks", len(sa.tasks), len(sb.tasks)),
        ("seeds", len(sa.seeds), len(sb.seeds)),
        (
            "source training size",
            _regime_text(sa.source_regime.train_size),
            _regime_text(sb.source_regime.train_size),
        ),
        (
            "target training size",
            _regime_text(sa.target_regime.train_size),
            _regime_text(sb.target_regime.train_size),
        ),
        ("epochs", sa.training.epochs, sb.training.epochs),
        ("learning rate", sa.training.learning_rate, sb.training.learning_rate),
        (  # the rate the head trained at (unset: the encoder's)
            "head learning rate",
            sa.training.head_learning_rate or sa.training.learning_rate,
            sb.training.head_learning_rate or sb.training.learning_rate,
        ),
        ("batch size", sa.training.batch_size, sb.training.batch_size),
        ("class weights", sa.training.class_weight, sb.training.class_weight),
    ]
    return [f"{name} {x} → {y}" for name, x, y in pairs if x != y]


def comparison_findings(
    a: RunResults, b: RunResults, label_a: str, label_b: str, data: Collected | None = None
) -> list[str]:
    """The comparison's answers as sentences for a report's Findings: whether similarity predicts transfer
    better in ``b`` than in ``a`` (with the interval of the difference), and which conclusions change."""
    da, db = data or (collect(a), collect(b))
    summary = conclusions_summary(_conclusions(a, b, da, db))
    differs = design_differences(a, b)
    design = f" ({label_a} → this run: {'; '.join(differs)})" if differs else ""
    return [*_prediction_sentences(da, db, (label_a, label_b)), f"Against {label_a}{design}: {summary}"]


def compare_runs(
    a: RunResults,
    b: RunResults,
    label_a: str = "A",
    label_b: str = "B",
    *,
    level: int = 1,
    title: str | None = None,
    data: Collected | None = None,
) -> list[Block]:
    """The comparison as report blocks (see the module docstring); its headings start at ``level`` (2 to
    include it as a section of a run's report)."""
    da, db = data or (collect(a), collect(b))
    labels = (label_a, label_b)
    blocks: list[Block] = [
        Heading(level, title or f"jtask2vec comparison: {label_a} vs {label_b}"),
        Bullets([_run_line(label_a, a, da), _run_line(label_b, b, db)]),
        Heading(level + 1, "Conclusions side by side"),
    ]
    rows = _conclusions(a, b, da, db)
    blocks.append(
        Table(
            ["question", label_a, label_b, "conclusion"],
            [[Cell(q), Cell(x), Cell(y), Cell(SAME_WORDS[s], bold=s is False)] for q, x, y, s in rows],
            numeric=[False, False, False, False],
        )
    )
    blocks.append(Paragraph(conclusions_summary(rows)))
    if prediction := _prediction_sentences(da, db, labels):
        blocks.append(Bullets(prediction))
    blocks.append(
        Paragraph(
            "Best distance: the TASK2VEC selector with the best mean on the metric ('same' when the two runs "
            "share one). Versus chance: the best distance against random:expected, tested over targets "
            "(sign-flip, max-T over the distances): better / not distinguishable / worse. Targets: 'same' "
            "when both runs have some, or both have none, beyond seed noise. "
            "Same-kind: the permutation test of the report's per-kind section on the dendrogram distance.",
            note=True,
        )
    )
    metrics = [f.metric for f in distance_findings(da.evaluation, da.claims)]
    metrics += [f.metric for f in distance_findings(db.evaluation, db.claims) if f.metric not in metrics]
    blocks.append(Heading(level + 1, "Selectors in both runs"))
    tables = [t for m in metrics if (t := _metric_table(m, da, db, labels)) is not None]
    if not tables:
        blocks.append(Paragraph("Selectors: not comparable (an evaluation table is missing)."))
    blocks += tables
    blocks.append(
        Paragraph(
            f"{label_b} − {label_a}: mean over targets of the difference (each target's metric averaged over "
            "its seeds), paired on the targets both runs share (sign-flip, exact up to 16 targets, max-T "
            "over the selectors of the table, Student t interval over targets) or, without shared targets, "
            "unpaired (permutation test of the two runs' target means, Holm over the selectors); bold where "
            f"p < {fmt(1 - min(da.confidence, db.confidence), 2)}. A positive difference on Spearman means "
            f"the similarity ranks sources closer to their transfer order in {label_b}.",
            note=True,
        )
    )
    return blocks


@dataclass(frozen=True)
class ComparisonPaths:
    folder: Path
    markdown: Path
    html: Path


def load_run(folder: str | Path) -> RunResults:
    folder = Path(folder)
    if not (folder / "results.json").is_file():
        raise ConfigError(f"{folder}: not a finished run folder (no results.json)")
    return RunResults.load(folder)


def finished_runs(names: list[str], runs_dir: str | Path) -> dict[str, RunResults | None]:
    """The finished run of each suite in ``names`` under ``runs_dir`` (``runs_dir/<name>``), or None where
    that suite has not finished a run there (a suite's ``compare_with``)."""
    out: dict[str, RunResults | None] = {}
    for name in names:
        folder = Path(runs_dir) / name
        out[name] = RunResults.load(folder) if (folder / "results.json").is_file() else None
    return out


def write_comparison(
    run_a: str | Path,
    run_b: str | Path,
    folder: str | Path,
    label_a: str | None = None,
    label_b: str | None = None,
) -> ComparisonPaths:
    """Compare two saved run folders; write ``comparison.md`` and a self-contained ``comparison.html``."""
    a, b = load_run(run_a), load_run(run_b)
    la = label_a or a.suite.name
    lb = label_b or b.suite.name
    if la == lb:
        la, lb = f"{la} (A)", f"{lb} (B)"
    blocks = compare_runs(a, b, la, lb)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md, html = folder / "comparison.md", folder / "comparison.html"
    atomic_write_text(md, to_markdown(blocks))
    atomic_write_text(html, to_html(blocks, f"jtask2vec comparison: {la} vs {lb}"))
    return ComparisonPaths(folder, md, html)
