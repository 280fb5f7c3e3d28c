"""Writers of small corpora in the formats the task loaders read (always into a tmp_path)."""

from __future__ import annotations

import json
from pathlib import Path

POS = ("朝食が美味しいです。", "部屋が広くて良い。", "また泊まりたい。", "接客が丁寧でした。", "景色が最高。")
NEG = ("部屋が汚い。", "接客が悪い。", "朝食がまずい。", "うるさくて眠れない。", "高すぎる。")
NEU = ("出張で利用しました。", "二泊しました。")


def write_jrte(data_dir: Path, n_pos: int = 24, n_neg: int = 12, n_neu: int = 6) -> Path:
    """``data_dir/jrte/pn.tsv`` and ``rhr.tsv`` with unique texts; usage cycles train/train/dev/test."""
    folder = data_dir / "jrte"
    folder.mkdir(parents=True, exist_ok=True)
    usages = ("train", "train", "train", "dev", "test")
    pn_rows, rhr_rows = [], []
    rows = [(1, POS)] * n_pos + [(-1, NEG)] * n_neg + [(0, NEU)] * n_neu
    for i, (label, pool) in enumerate(rows):
        text = f"{pool[i % len(pool)]}{i}番"
        usage = usages[i % len(usages)]
        judges = json.dumps({str(label): 3}) if i % 4 else json.dumps({str(label): 2, "0": 1})
        pn_rows.append(f"pn{i:05d}\t{label}\t{text}\t{judges}\t{usage}")
        rhr_rows.append(f"rhr{i:05d}\t{i % 2}\t{text}\t{json.dumps({'0': 1, '1': 2})}\t{usage}")
    (folder / "pn.tsv").write_text("\n".join(pn_rows) + "\n", encoding="utf-8")
    (folder / "rhr.tsv").write_text("\n".join(rhr_rows) + "\n", encoding="utf-8")
    return folder


def chabsa_doc(sentences: list[tuple[str, list[str]]]) -> dict:
    return {
        "header": {"document_id": "E00000"},
        "sentences": [
            {
                "sentence_id": i,
                "sentence": text,
                "opinions": [
                    {"target": "x", "category": "company#sales", "polarity": p, "from": 0, "to": 1}
                    for p in pols
                ],
            }
            for i, (text, pols) in enumerate(sentences)
        ],
    }


def write_chabsa(data_dir: Path) -> Path:
    """Two annotation files: 6 positive, 4 negative sentences after the score rule (one duplicated text)."""
    folder = data_dir / "chabsa" / "chABSA-dataset"
    folder.mkdir(parents=True, exist_ok=True)
    a = [
        ("売上高は増加\nしました。", ["positive"]),  # newline removed -> 売上高は増加しました。
        ("利益は減少しました。", ["negative"]),
        ("受注は好調で、利益は減少。", ["positive", "negative"]),  # score 0: dropped
        ("概況は以下の通り。", []),  # no opinion: dropped
        ("中立の記述です。", ["neutral"]),  # score 0: dropped
        ("売上と利益が伸びた。", ["positive", "positive", "negative"]),  # score +1
        ("費用が増え、損失が拡大。", ["negative", "negative"]),
    ]
    b = [
        ("受注が増加しました。", ["positive"]),
        ("株価は堅調でした。", ["positive", "neutral"]),
        ("業績は改善した。", ["positive"]),
        ("売上高は減少した。", ["negative"]),
        ("売上高は増加しました。", ["positive"]),  # same text as the first sentence of file a
        ("損失を計上した。", ["negative"]),
    ]
    (folder / "e00001_ann.json").write_text(json.dumps(chabsa_doc(a), ensure_ascii=False), encoding="utf-8")
    (folder / "e00002_ann.json").write_text(json.dumps(chabsa_doc(b), ensure_ascii=False), encoding="utf-8")
    return folder


def write_livedoor(data_dir: Path, per_category: int = 10, categories: tuple[str, ...] = ()) -> Path:
    """``data_dir/livedoor/text/<category>/`` with article files and a LICENSE.txt each."""
    cats = categories or ("kaden-channel", "sports-watch", "topic-news")
    root = data_dir / "livedoor" / "text"
    for c, cat in enumerate(cats):
        folder = root / cat
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "LICENSE.txt").write_text("ライセンス\n", encoding="utf-8")
        for i in range(per_category):
            body = f"{cat}の記事{i}の本文です。\n\n二段落目{i}。"
            if cat == "topic-news" and i == 1:
                body = "topic-newsの記事0の本文です。\n\n二段落目0。"  # identical body, other title
            url = f"http://news.livedoor.com/article/detail/{c * 1000 + i}/"
            text = f"{url}\n2012-01-0{i % 9 + 1}T10:00:00+0900\n"
            text += f"{cat}のタイトル{i}\n{body}\n"
            (folder / f"{cat}-{c * 1000 + i}.txt").write_text(text, encoding="utf-8")
    return root


def write_rakuten(data_dir: Path, release: str, n: int = 20, sep: str = "\t", year: str = "2015") -> Path:
    """``data_dir/rakuten-travel/<release>/reviews.tsv|csv`` with コメント / 総合 / 投稿日時 columns."""
    folder = data_dir / "rakuten-travel" / release
    folder.mkdir(parents=True, exist_ok=True)
    ext = "tsv" if sep == "\t" else "csv"
    lines = [sep.join(("施設番号", "投稿日時", "コメント", "サービス", "総合"))]
    ratings = (5, 4, 3, 2, 1, 0)
    for i in range(n):
        r = ratings[i % len(ratings)]
        y = year if i % 2 == 0 else str(int(year) + 1)
        text = f"{release}の宿{i}、{'良い' if r >= 4 else '悪い'}宿でした。"
        lines.append(sep.join((str(100 + i), f"{y}-03-0{i % 9 + 1} 10:00:00", text, str(r), str(r))))
    path = folder / f"reviews.{ext}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_generic(path: Path, rows: list[tuple[str, str]], fmt: str, split: bool = False) -> Path:
    """A csv/tsv/jsonl file with ``text`` and ``label`` (and ``split``) columns."""
    splits = ("train", "train", "train", "dev", "test")
    if fmt == "jsonl":
        lines = []
        for i, (t, y) in enumerate(rows):
            obj = {"text": t, "label": y}
            if split:
                obj["split"] = splits[i % 5]
            lines.append(json.dumps(obj, ensure_ascii=False))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    sep = "," if fmt == "csv" else "\t"
    header = ["text", "label"] + (["split"] if split else [])
    out = [sep.join(header)]
    for i, (t, y) in enumerate(rows):
        cells = [f'"{t}"' if sep in t else t, y] + ([splits[i % 5]] if split else [])
        out.append(sep.join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def binary_rows(n: int = 30, labels: tuple[str, str] = ("neg", "pos")) -> list[tuple[str, str]]:
    return [(f"{(POS if i % 2 else NEG)[i % 5]}{i}", labels[i % 2]) for i in range(n)]
