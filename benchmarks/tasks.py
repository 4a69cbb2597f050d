"""The work of each measured subprocess that is not a qualcode command: the baselines and the session driver.

`python benchmarks/tasks.py NAME DIR` runs one task on the files `run.py` prepared in DIR and prints one JSON line.
Each task reads its input before anything else and does exactly the work it stands for: no qualcode database is
opened by a baseline. run.py measures the whole subprocess (wall time and peak memory), as it does a qualcode command.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path


def tokenizer(d: Path) -> dict:
    """The bare spaCy tokenizer over every turn text, each with its language's: the floor under any importer that
    tokenizes."""
    import spacy

    spec = json.loads((d / "turn_texts.json").read_text(encoding="utf-8"))
    tokens = 0
    for language in sorted(set(spec["languages"])):
        nlp = spacy.blank(language)
        texts = [t for t, lang in zip(spec["texts"], spec["languages"], strict=True) if lang == language]
        tokens += sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=256))
    return {"texts": len(spec["texts"]), "tokens": tokens}


def sqlite_bulk(d: Path) -> dict:
    """sqlite-utils writing the same interviews, turns and sentences as plain rows with insert_all."""
    from sqlite_utils import Database

    with open(d / "rows.pickle", "rb") as f:
        rows = pickle.load(f)
    target = d / "bulk.db"
    target.unlink(missing_ok=True)
    db = Database(target)
    db.execute("PRAGMA journal_mode = WAL")  # the durability settings qualcode's own connections use
    db.execute("PRAGMA synchronous = NORMAL")
    for table in ("interviews", "turns", "sentences"):
        db[table].insert_all(rows[table], batch_size=1000)
    n = {table: db[table].count for table in ("interviews", "turns", "sentences")}
    db.conn.close()
    target.unlink()
    return n


def blank_pipeline(d: Path) -> dict:
    """The floor under any suggester: qualcode's pipeline (spacy.blank, lookup lemmatizer, sentencizer) over the
    scored turn texts, and nothing else."""
    from qualcode.text import nlp as qnlp

    spec = json.loads((d / "suggest_input.json").read_text(encoding="utf-8"))
    tokens = 0
    for language in sorted(set(spec["languages"])):
        pipe = qnlp.build(language)
        texts = [t for t, lang in zip(spec["texts"], spec["languages"], strict=True) if lang == language]
        tokens += sum(len(doc) for doc in pipe.pipe(texts, batch_size=64))
    return {"texts": len(spec["texts"]), "tokens": tokens}


def pipeline(d: Path, *, model: bool = False) -> dict:
    """qualcode.text.nlp.build + compile_patterns over the scored turns with nlp.pipe, and the model when asked
    (its features need the turn before each one through the pipeline and the matchers too)."""
    from qualcode.codebook.patterns import compile_patterns
    from qualcode.codebook.tree import CodeTree
    from qualcode.suggest.models import from_bytes
    from qualcode.text import nlp as qnlp

    spec = json.loads((d / "suggest_input.json").read_text(encoding="utf-8"))
    tree = CodeTree.from_rows(spec["codes"])
    trained = from_bytes("bench", "bench", (d / "model.bin").read_bytes()) if model else None
    found = labelled = 0
    # Each language's texts through its own pipeline and patterns, as qualcode reads them.
    for language in sorted(set(spec["languages"])):
        pipe = qnlp.build(language)
        matchers = compile_patterns(pipe, tree.codable())
        keep = [i for i, lang in enumerate(spec["languages"]) if lang == language]
        texts, previous = [spec["texts"][i] for i in keep], [spec["previous"][i] for i in keep]
        f, n = _score(pipe, matchers, tree, trained, texts, previous)
        found, labelled = found + f, labelled + n
    return {"texts": len(spec["texts"]), "matches": found, "cats": labelled}


def _score(pipe, matchers, tree, trained, texts: list[str], previous: list[str]) -> tuple[int, int]:
    from qualcode.suggest import linear

    found = labelled = 0
    for start in range(0, len(texts), 128):
        chunk = texts[start : start + 128]
        docs = list(pipe.pipe(chunk, batch_size=64))
        matches = [matchers.find(doc, text) for doc, text in zip(docs, chunk, strict=True)]
        found += sum(len(m) for m in matches)
        if trained is not None:
            prev = previous[start : start + 128]
            before = [matchers.find(doc, t) for doc, t in zip(pipe.pipe(prev, batch_size=64), prev, strict=True)]
            x = trained.space.matrix(tree, docs, matches, before)
            labelled += linear.predict(x, trained.weights, trained.bias).size
    return found, labelled


def alpha(d: Path) -> dict:
    """The krippendorff package's α on each reliability matrix the audit reports (nominal, two coders)."""
    import krippendorff
    import numpy as np

    with np.load(d / "matrices.npz") as data:
        matrices = {name: data[name] for name in data.files}
    names = json.loads((d / "matrix_names.json").read_text(encoding="utf-8"))
    return {
        names[key]: float(krippendorff.alpha(reliability_data=m, level_of_measurement="nominal"))
        for key, m in matrices.items()
    }


def session(d: Path) -> dict:
    """Drive the coding session engine: STEPS `n` moves, then STEPS `a` decisions, each timed on its own."""
    from qualcode.coding import session as engine
    from qualcode.store.db import open_project

    spec = json.loads((d / "session.json").read_text(encoding="utf-8"))
    db = open_project(spec["db"])
    t0 = time.perf_counter()
    ids = engine.scope(db, spec["coder"])
    s = engine.CodingSession(db, spec["coder"], ids)
    start = time.perf_counter() - t0
    moves, decisions = [], []
    for _ in range(spec["steps"]):
        t = time.perf_counter()
        s.handle("n")
        moves.append(time.perf_counter() - t)
    for _ in range(spec["steps"]):
        t = time.perf_counter()
        reply = s.handle("a")
        decisions.append(time.perf_counter() - t)
        assert reply.message and reply.message.startswith("saved"), reply.message
    return {"scope": len(ids), "start": start, "n": moves, "a": decisions}


TASKS = {
    "tokenizer": tokenizer,
    "sqlite_bulk": sqlite_bulk,
    "blank_pipeline": blank_pipeline,
    "pipeline": pipeline,
    "pipeline_model": lambda d: pipeline(d, model=True),
    "alpha": alpha,
    "session": session,
}

if __name__ == "__main__":
    name, folder = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(TASKS[name](folder)))
