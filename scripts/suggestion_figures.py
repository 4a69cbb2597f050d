"""The README's "How good are the suggestions" figures, from nothing: one command, a few minutes. Not run in CI.

    python scripts/suggestion_figures.py            # cross-validation, heldout/dev and heldout/dev2 (tuning sets)
    python scripts/suggestion_figures.py --test     # and heldout/test, heldout/test2: the reported held-out figures
    python scripts/suggestion_figures.py --languages  # the French and Spanish figures only
    python scripts/suggestion_figures.py --more       # a model trained on 36 coded interviews instead of 16

It builds a project in a temporary folder (the shipped corpus, heldout/dev, heldout/dev2 and, with --test,
heldout/test and heldout/test2; the DAC codebook; every coder's codings) and runs, through the command line as a user
would:

- `qualcode suggest --evaluate --coder coder-a` (and coder-b): cross-validation on the shipped coding, with
  `--heldout-coder` for each held-out coder and the learning curve (`--curve 4,8,16`);
- the issue's own measure: `qualcode train --coder coder-a`, `qualcode suggest`, `qualcode suggestions export`,
  and criterion-level precision, recall and F1 of the exported (shown) suggestions against each held-out coder,
  read from the coding files alone. It must equal the held-out figure of `--evaluate`; the script checks that.

heldout/test and heldout/test2 are frozen (heldout/README.md): run with --test only to report, never to choose
anything.

With --more: does the model gain from more coded interviews of the same corpus? codings/more/ holds twenty more
shipped interviews coded by coder-i and coder-j; they are imported as coder-a's, so that `--evaluate --coder coder-a`
trains on 36 interviews, and the held-out figures on heldout/dev and heldout/dev2 are printed beside the 16-interview
model's.

With --languages: the shipped corpus with coder-a's coding and the French and Spanish coding of coder-c, coder-d
and coder-e (codings/languages/); the model trained on coder-a's English coding scored on each French and Spanish
coder's turns, and cross-validation within each language's own coder (a model trained on French coding alone).
Those eight interviews became a development set once the vocabulary feature's handling of other languages was
chosen on them; the held-out figures are INT-51 (French) and INT-63 (Spanish), coded afterwards
(codings/languages/heldout/) and scored once, in a project of their own.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAC = ["Relevance", "Coherence", "Effectiveness", "Efficiency", "Impact", "Sustainability"]
SETS = {
    "dev": ["coder-f"],
    "dev2": ["coder-g", "coder-h"],
    "test": ["coder-k", "coder-l"],
    "test2": ["coder-m", "coder-n"],
}
TESTS = ["test", "test2"]


def qualcode(db: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "qualcode", "--db", str(db), "--quiet", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def exported_figures(db: Path, coding_file: Path) -> dict:
    """Criterion-level figures of what `suggestions export` shows, against a coding file, on that file's turns."""
    shown: dict[tuple[str, int], set[str]] = defaultdict(set)
    for line in qualcode(db, "suggestions", "export").splitlines():
        r = json.loads(line)
        if r["unit"] == "turn":
            shown[(r["interview"], r["turn"])].add(r["code"].split("/")[0])
    gold: dict[tuple[str, int], set[str]] = defaultdict(set)
    with open(coding_file, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["interview"], int(row["turn"]))
            gold[key]  # a decision, even "no code"
            if row["code"]:
                gold[key].add(row["code"].split("/")[0])
    counts = {c: [0, 0, 0] for c in DAC}
    for key, codes in gold.items():
        for c in DAC:
            p, g = c in shown.get(key, ()), c in codes
            counts[c][0] += p and g
            counts[c][1] += p and not g
            counts[c][2] += g and not p
    total = [sum(v[i] for v in counts.values()) for i in range(3)]
    return {"micro": prf(*total), "per": {c: prf(*v) for c, v in counts.items()}, "turns": len(gold)}


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def table(variants: dict, label: str) -> list[str]:
    out = []
    for v in ("patterns", "model"):
        m = variants[v]["criterion"]["micro"]
        name = "patterns alone" if v == "patterns" else "**patterns + model**"
        out.append(
            f"| {label} | {name} | {fmt(m['precision'])} | {fmt(m['recall'])} | {fmt(m['f1'])} | "
            f"{fmt(variants[v]['criterion']['macro_f1'])} | {fmt(variants[v]['code']['micro']['f1'])} |"
        )
    return out


def per_criterion(variants: dict) -> str:
    rows = {r["code"]: r for r in variants["model"]["criterion"]["rows"]}
    return ", ".join(
        f"{c} {fmt(rows[c]['f1'])} (P {fmt(rows[c]['precision'])}, R {fmt(rows[c]['recall'])})" for c in DAC
    )


def languages(db: Path) -> None:
    """The README's per-language figures (see the module docstring)."""
    qualcode(db, "import", str(ROOT / "transcripts"))
    qualcode(db, "codebook", "load", str(ROOT / "codebooks" / "dac.yml"))
    qualcode(db, "codings", "import", str(ROOT / "codings" / "coder-a.csv"))
    for coder in ("coder-c", "coder-d", "coder-e"):
        qualcode(db, "codings", "import", str(ROOT / "codings" / "languages" / f"{coder}.csv"))
    flags = ["--heldout-coder", "coder-c", "--heldout-coder", "coder-d", "--heldout-coder", "coder-e"]
    a = json.loads(qualcode(db, "suggest", "--evaluate", "--coder", "coder-a", *flags, "--format", "json"))
    print("Criterion level over the six DAC criteria, micro P / R / F1; pre-checked: share right (how many).\n")
    print("| turns | against | patterns alone | patterns + model | pre-checked right |")
    print("|---|---|---|---|---|")

    def row(label: str, coder: str, figures: dict) -> None:
        cells = []
        for v in ("patterns", "model"):
            m = figures[v]["criterion"]["micro"]
            cells.append(f"{fmt(m['precision'])} / {fmt(m['recall'])} / {fmt(m['f1'])}")
        pre = figures["prechecked"]
        print(f"| {label} | {coder} | {cells[0]} | {cells[1]} | {fmt(pre['right (code)'])} ({pre['suggestions']}) |")

    for lang, figures in a["languages"].items():
        row(f"{lang}, cross-validated ({figures['turns']})", "coder-a", figures)
    for coder in ("coder-c", "coder-d", "coder-e"):
        for lang, figures in a["heldout"][coder]["languages"].items():
            row(f"{lang}, model trained on coder-a ({figures['turns']})", coder, figures)
    for coder in ("coder-c", "coder-d"):
        own = json.loads(qualcode(db, "suggest", "--evaluate", "--coder", coder, "--folds", "4", "--format", "json"))
        for lang, figures in own["languages"].items():
            row(f"{lang}, cross-validated within {coder} ({figures['turns']})", coder, figures)
    print("\nPer criterion, patterns + model, trained on coder-a:\n")
    for coder in ("coder-c", "coder-d"):
        print(f"- {coder}: {per_criterion(a['heldout'][coder]['variants'])}")
    test = db.with_name("languages-test.db")
    qualcode(test, "import", str(ROOT / "transcripts"))
    qualcode(test, "codebook", "load", str(ROOT / "codebooks" / "dac.yml"))
    qualcode(test, "codings", "import", str(ROOT / "codings" / "coder-a.csv"))
    for coder in ("coder-c", "coder-d"):
        qualcode(test, "codings", "import", str(ROOT / "codings" / "languages" / "heldout" / f"{coder}.csv"))
    flags = ["--heldout-coder", "coder-c", "--heldout-coder", "coder-d"]
    t = json.loads(qualcode(test, "suggest", "--evaluate", "--coder", "coder-a", *flags, "--format", "json"))
    print("\nHeld out (INT-51, INT-63; coded after every choice was made):\n")
    print("| turns | against | patterns alone | patterns + model | pre-checked right |")
    print("|---|---|---|---|---|")
    for coder in ("coder-c", "coder-d"):
        for lang, figures in t["heldout"][coder]["languages"].items():
            row(f"{lang}, model trained on coder-a ({figures['turns']})", coder, figures)
    row(f"both ({t['heldout']['coder-c']['turns'] + t['heldout']['coder-d']['turns']})", "coder-c, coder-d",
        _pooled([t["heldout"][c]["variants"] for c in ("coder-c", "coder-d")]))  # fmt: skip


def _pooled(sets: list[dict]) -> dict:
    """Criterion-level micro figures of several held-out sets pooled (their counts added)."""
    out = {}
    for v in ("patterns", "model"):
        tp = fp = fn = 0
        for s in sets:
            for r in s[v]["criterion"]["rows"]:
                if r["averaged"]:
                    tp, fp, fn = tp + r["tp"], fp + r["fp"], fn + r["fn"]
        p, r_, f = prf(tp, fp, fn)
        out[v] = {"criterion": {"micro": {"precision": p, "recall": r_, "f1": f}}}
    n = sum(s["prechecked"]["suggestions"] for s in sets)
    right = sum((s["prechecked"]["right (code)"] or 0) * s["prechecked"]["suggestions"] for s in sets)
    out["prechecked"] = {"suggestions": n, "right (code)": right / n if n else None}
    return out


def more(folder: Path) -> None:
    """The --more experiment (see the module docstring): the development sets only."""
    sets = ["dev", "dev2"]
    flags = [a for name in sets for coder in SETS[name] for a in ("--heldout-coder", coder)]
    print("Held-out criterion micro P / R / F1, patterns + model, trained on coder-a's decisions:\n")
    print("| trained on | " + " | ".join(c for name in sets for c in SETS[name]) + " |")
    print("|---|" + "---|" * sum(len(SETS[n]) for n in sets))
    for label, extra in (("16 interviews (coder-a)", []), ("36 interviews (+ codings/more)", ["coder-i", "coder-j"])):
        db = folder / f"more-{len(extra)}.db"
        qualcode(db, "import", str(ROOT / "transcripts"), *(str(ROOT / "heldout" / n) for n in sets))
        qualcode(db, "codebook", "load", str(ROOT / "codebooks" / "dac.yml"))
        qualcode(db, "codings", "import", str(ROOT / "codings" / "coder-a.csv"))
        for coder in extra:
            with open(ROOT / "codings" / "more" / f"{coder}.csv", encoding="utf-8", newline="") as f:
                rows = [{**r, "coder": "coder-a"} for r in csv.DictReader(f)]
            as_a = folder / f"{coder}-as-coder-a.csv"
            with open(as_a, "w", encoding="utf-8", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            qualcode(db, "codings", "import", str(as_a))
        for name in sets:
            for coder in SETS[name]:
                qualcode(db, "codings", "import", str(ROOT / "heldout" / name / "codings" / f"{coder}.csv"))
        r = json.loads(qualcode(db, "suggest", "--evaluate", "--coder", "coder-a", *flags, "--format", "json"))
        cells = []
        for name in sets:
            for coder in SETS[name]:
                m = r["heldout"][coder]["variants"]["model"]["criterion"]["micro"]
                cells.append(f"{fmt(m['precision'])} / {fmt(m['recall'])} / {fmt(m['f1'])}")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--test", action="store_true", help="also the test sets (frozen: for reporting only)")
    ap.add_argument("--languages", action="store_true", help="the French and Spanish figures only")
    ap.add_argument("--more", action="store_true", help="train on 36 coded interviews (codings/more/) as well")
    ap.add_argument("--keep", type=Path, help="build the project in this folder and keep it")
    args = ap.parse_args()
    if args.languages:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="qualcode-languages-"))
        folder.mkdir(parents=True, exist_ok=True)
        languages(folder / "languages.db")
        return
    if args.more:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="qualcode-more-"))
        folder.mkdir(parents=True, exist_ok=True)
        more(folder)
        return
    sets = ["dev", "dev2", *TESTS] if args.test else ["dev", "dev2"]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="qualcode-figures-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "figures.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    qualcode(db, "import", str(ROOT / "transcripts"))
    for name in sets:
        qualcode(db, "import", str(ROOT / "heldout" / name))
    qualcode(db, "codebook", "load", str(ROOT / "codebooks" / "dac.yml"))
    for coder in ("coder-a", "coder-b"):
        qualcode(db, "codings", "import", str(ROOT / "codings" / f"{coder}.csv"))
    heldout = [(name, coder) for name in sets for coder in SETS[name]]
    for name, coder in heldout:
        qualcode(db, "codings", "import", str(ROOT / "heldout" / name / "codings" / f"{coder}.csv"))
    flags = [a for _, coder in heldout for a in ("--heldout-coder", coder)]
    results = {
        coder: json.loads(
            qualcode(db, "suggest", "--evaluate", "--coder", coder, *flags, "--curve", "4,8,16", "--format", "json")
        )
        for coder in ("coder-a", "coder-b")
    }
    qualcode(db, "train", "--coder", "coder-a")
    qualcode(db, "suggest")
    exported = {
        coder: exported_figures(db, ROOT / "heldout" / name / "codings" / f"{coder}.csv") for name, coder in heldout
    }

    a = results["coder-a"]
    print(f"Cross-validated ({a['folds']} folds by interview, {a['turns']} turns in {a['interviews']} interviews) and")
    print("held out (a model trained on all of the coder's decisions); criterion level over the six DAC criteria:\n")
    print("| against | variant | precision | recall | micro-F1 | macro-F1 | micro-F1 per code |")
    print("|---|---|---|---|---|---|---|")
    for coder, r in results.items():
        print("\n".join(table(r["variants"], f"{coder} (CV)")))
    for name, coder in heldout:
        print("\n".join(table(a["heldout"][coder]["variants"], f"{coder} ({name}, trained on coder-a)")))
    tested = [coder for name, coder in heldout if name in TESTS]
    if tested:
        pooled = _pooled([a["heldout"][c]["variants"] for c in tested])
        for v in ("patterns", "model"):
            p, r, f = (pooled[v]["criterion"]["micro"][k] for k in ("precision", "recall", "f1"))
            print(f"| both test sets, every coder's counts added | {v} | {fmt(p)} | {fmt(r)} | {fmt(f)} | | |")
    print("\nPer criterion, patterns + model, micro-F1 (precision, recall):\n")
    print(f"- cross-validated, coder-a: {per_criterion(a['variants'])}")
    for name, coder in heldout:
        print(f"- {name}, {coder}: {per_criterion(a['heldout'][coder]['variants'])}")
    print("\nPre-checked suggestions (calibrated probability ≥ 0.8), share right:\n")
    pre = a["variants"]["prechecked"]
    print(f"- cross-validated, coder-a: {pre['suggestions']} pre-checked, {fmt(pre['right (code)'])} right")
    for name, coder in heldout:
        pre = a["heldout"][coder]["variants"]["prechecked"]
        print(f"- {name}, {coder}: {pre['suggestions']} pre-checked, {fmt(pre['right (code)'])} right")
    if tested:
        pre = pooled["prechecked"]
        print(f"- both test sets, every coder: {pre['suggestions']} pre-checked, {fmt(pre['right (code)'])} right")
    print("\nLearning curve (trained on N of coder-a's interviews; means over draws), held-out criterion micro-F1:\n")
    print("| interviews seen | against | draws | precision | recall | F1 |")
    print("|---|---|---|---|---|---|")
    for c in a["curve"]:
        print(
            f"| {c['interviews']} | {c['coder']} | {c['draws']} | {fmt(c['precision'])} | {fmt(c['recall'])} "
            f"| {fmt(c['f1'])} |"
        )
    print("\nThe issue's measure (train --coder coder-a, suggest, suggestions export), criterion micro P / R / F1:\n")
    for name, coder in heldout:
        e = exported[coder]
        p, r, f = e["micro"]
        print(f"- {name}, {coder} ({e['turns']} turns): {p:.3f} / {r:.3f} / {f:.3f}")
        m = a["heldout"][coder]["variants"]["model"]["criterion"]["micro"]
        if abs((m["f1"] or 0) - f) > 1e-9:
            raise SystemExit(f"the exported suggestions and --evaluate disagree on {coder}: {f} against {m['f1']}")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    main()
