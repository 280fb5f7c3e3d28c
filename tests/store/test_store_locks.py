"""The store's claim lock between many real processes: a stale claim (its owner died holding it) is taken
by exactly one of many racers at a time, and no lock file is left behind."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from test_store import dead_owner, python

from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.store.manifest import read_events

RACER = """
    import os, sys, time
    from pathlib import Path
    from jtask2vec.store.artifacts import ArtifactStore
    store = ArtifactStore({root!r})
    marks, start, slot = Path({marks!r}), {start!r}, {slot!r}
    for trial in range({trials}):
        time.sleep(max(0.0, start + trial * slot - time.time()))  # every racer starts trial t together
        with store.claim("kind", f"k{{trial}}", poll=0.0, timeout=60):
            try:  # held by nobody else: the mark of a holder cannot exist now
                os.close(os.open(marks / f"k{{trial}}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                (marks / f"two-owners-k{{trial}}-{{os.getpid()}}").touch()
                continue
            time.sleep(0.002)
            os.unlink(marks / f"k{{trial}}")
"""


def test_many_processes_racing_for_stale_claims_never_share_one(tmp_path: Path) -> None:
    racers, trials = 6, 300  # 300 stale claims, each raced for by 6 processes
    store = ArtifactStore(tmp_path / "store")
    folder, marks = store.root / "kind", tmp_path / "marks"
    folder.mkdir(parents=True)
    marks.mkdir()
    stale = json.dumps({**dead_owner().to_dict(), "claimed": 0.0})
    for trial in range(trials):  # left by a process killed holding the claim
        (folder / f".lock-k{trial}").write_text(stale, encoding="utf-8")
    code = RACER.format(
        root=str(store.root), marks=str(marks), start=time.time() + 3.0, slot=0.01, trials=trials
    )
    procs = [python(code) for _ in range(racers)]
    assert [p.wait(timeout=120) for p in procs] == [0] * racers
    assert sorted(p.name for p in marks.iterdir()) == []  # no two owners, ever
    assert sorted(p.name for p in folder.iterdir()) == []  # no lock file left behind
    events = read_events(store.root)
    claims = Counter(e["key"] for e in events if e["event"] == "claim")
    assert claims == {f"k{t}": racers for t in range(trials)}  # every racer got every claim once
    broken = Counter(e["key"] for e in events if e["event"] == "break-stale-claim")
    assert broken == {f"k{t}": 1 for t in range(trials)}  # each stale claim taken over once
