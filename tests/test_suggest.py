"""Suggestions: the pipeline, pattern matching, storage with evidence, staleness, training and evaluation."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from qualcode.codebook import patterns as pats
from qualcode.codebook.parse import parse
from qualcode.text import nlp
from tests.conftest import CODEBOOK, CODINGS, CORPUS, write
from tests.conftest import query as q

SMALL = """codebook: Small
codes:
  - key: eff
    name: Efficiency
    patterns:
      - {phrase: workshop, weight: 0.4}
    children:
      - key: eff.funding
        name: Funding
        patterns:
          - [{LEMMA: {IN: [money, fee, budget]}}]
          - {phrase: toolkit, weight: 0.3}
  - key: rel
    name: Relevance
    patterns:
      - [{LOWER: {IN: [statistics, statistical]}}]
      - covid
"""


def test_lemmas_are_lowercased_so_capitalised_inflections_match():
    pipe = nlp.build("en")
    codes = [SimpleNamespace(id=1, path="X", patterns={"en": [{"phrase": "recruitment fee", "weight": 0.6}]})]
    m = pats.compile_patterns(pipe, codes)
    found = m.find(pipe("Recruitment Fees were paid. RECRUITMENT FEES again."))
    assert [(x.text, x.start, x.end) for x in found] == [("Recruitment Fees", 0, 16), ("RECRUITMENT FEES", 28, 44)]


def test_expanded_token_patterns_match_exactly_what_spacys_matcher_matches():
    from spacy.matcher import Matcher

    spec = parse(CODEBOOK)
    codes = [SimpleNamespace(id=i, path=p, patterns=c.patterns) for i, (p, _, c) in enumerate(spec.walk())]
    pipe = nlp.build("en")
    ours = pats.compile_patterns(pipe, codes)
    plain = Matcher(pipe.vocab)
    for c in codes:
        for idx, p in enumerate(c.patterns.get("en", [])):
            if "tokens" in p:
                plain.add(f"{c.id}:{idx}", [[pats._lower_lemma(t) for t in p["tokens"]]])
    assert len(ours.expanded) > 300  # most patterns are expanded, so the comparison means something
    texts = [f.read_text(encoding="utf-8").split("---", 2)[2] for f in sorted(CORPUS.glob("INT-*.md"))[:24]]
    total = 0
    assert len(ours.anchored) > 30  # and most of the others run behind an anchor
    for doc in pipe.pipe(texts):
        expected = {(pipe.vocab.strings[i], s, e) for i, s, e in plain(doc)}
        got = {(pipe.vocab.strings[i], s, e) for mt in (ours.expanded, ours.tokens) if len(mt) for i, s, e in mt(doc)}
        got |= {(pipe.vocab.strings[i], s, e) for i, s, e in ours._anchored_hits(doc)}
        assert got == expected
        total += len(expected)
    assert total > 200


def test_anchored_patterns_match_what_the_matcher_matches_with_any_operator():
    from spacy.matcher import Matcher

    pipe = nlp.build("en")
    patterns = [
        [{"LOWER": "funds"}, {"OP": "?"}, {"LEMMA": {"IN": ["arrive", "come"]}}],
        [{"LEMMA": "delay", "OP": "+"}, {"IS_PUNCT": True}],
        [{"LOWER": {"IN": ["very", "so"]}, "OP": "*"}, {"LOWER": "late"}],
        [{"LIKE_NUM": True}, {"LOWER": "months"}],
        [{"LOWER": {"NOT_IN": ["the"]}}, {"LEMMA": "budget"}],
        [{"LOWER": "Late"}],  # a capital never matches LOWER, expanded or not
        [{"LIKE_NUM": True}, {"OP": "?"}, {"LOWER": {"NOT_IN": ["x"]}}],  # no anchor: run on every doc
    ]
    codes = [SimpleNamespace(id=1, path="X", patterns={"en": [{"tokens": p, "weight": 0.5} for p in patterns]})]
    ours = pats.compile_patterns(pipe, codes)
    assert len(ours.anchored) == 5 and len(ours.tokens) == 1
    plain = Matcher(pipe.vocab)
    for idx, p in enumerate(patterns):
        plain.add(f"1:{idx}", [[pats._lower_lemma(t) for t in p]])
    texts = [
        "The funds never arrived. Funds came late, very very late: 6 months! The delays, delays.",
        "Our budget was late and the budget came in 3 months.",
        "",
        "Nothing here.",
    ]
    for doc in pipe.pipe(texts):
        expected = sorted((s, e, pipe.vocab.strings[i]) for i, s, e in plain(doc))
        got = sorted({(m.start, m.end, m.label) for m in ours.find(doc)})
        spans = sorted((doc[s:e].start_char, doc[s:e].end_char, ours.meta[k][2]) for s, e, k in expected)
        assert got == sorted(set(spans))


def test_noisy_or_and_pattern_scores_count_each_pattern_once():
    assert pats.noisy_or([0.6]) == pytest.approx(0.6)
    assert pats.noisy_or([0.6, 0.6]) == pytest.approx(0.84)
    m = [
        pats.Match(1, 0, "a", 0.6, 0, 3, "abc"),
        pats.Match(1, 0, "a", 0.6, 10, 13, "abc"),
        pats.Match(1, 1, "b", 0.5, 20, 22, "de"),
    ]
    score, evidence = pats.pattern_scores(m)[1]
    assert score == pytest.approx(0.8) and len(evidence) == 3


def test_the_turn_before_is_not_read_again_when_it_is_the_text_just_before(cli, project, monkeypatch):
    """The model's features read the turn before each one; when that is the text just before it in the batch (a
    participant answering on), its matches serve both: a ninth fewer characters read in a model-assisted run on the
    corpus. The same words anywhere else are read again, as they would be in a project that holds them twice."""
    from qualcode.store.db import open_project
    from qualcode.suggest import score

    read = []
    original = score._docs
    monkeypatch.setattr(score, "_docs", lambda pipe, texts: read.extend(texts) or original(pipe, texts))
    scorer = score.Scorer.build(open_project(cli.db_path), use_model=False)
    texts = ["The money came late.", "We lost six months.", "The money came late."]
    previous = ["How was it funded?", "The money came late.", "How was it funded?"]
    parsed, before = scorer._with_before(texts, previous, None)
    assert read == [*texts, previous[0], previous[2]]
    assert before[1] is parsed[0][1]  # the same matches, not a second reading
    alone = scorer._parsed(previous, None)  # and the same result as reading them apart
    assert [[(m.code_id, m.start, m.end) for m in ms] for ms in before] == [
        [(m.code_id, m.start, m.end) for m in ms] for _, ms in alone
    ]


@pytest.fixture
def project(cli, tmp_path):
    cli("import", *[CORPUS / f"INT-0{i}.md" for i in (1, 2, 3)])
    cli("codebook", "load", write(tmp_path / "small.yml", SMALL))
    return tmp_path


def test_suggest_stores_evidence_at_exact_offsets_and_only_participant_turns(cli, db_path, tmp_path):
    cli("import", CORPUS / "INT-01.md")
    write(tmp_path / "fees.yml", SMALL.replace("toolkit, weight: 0.3", "toolkit, weight: 0.9"))
    cli("codebook", "load", tmp_path / "fees.yml")
    data = json.loads(cli("suggest", "--format", "json").stdout)
    assert (
        data["turns scored"]
        == q(
            db_path,
            "SELECT count(*) FROM turns t JOIN speakers s ON s.id = t.speaker_id WHERE s.participant_id IS NOT NULL",
        )[0][0]
    )
    rows = q(
        db_path,
        "SELECT s.evidence, i.text, s.unit, s.start, s.end, t.start, t.end FROM suggestions s "
        "JOIN interviews i ON i.id = s.interview_id JOIN turns t ON t.id = s.turn_id",
    )
    assert rows
    for evidence, text, unit, a, b, ta, tb in rows:
        assert ta <= a < b <= tb and (unit == "sentence" or (a, b) == (ta, tb))
        for e in json.loads(evidence):
            assert text[e["start"] : e["end"]] == e["text"] and a <= e["start"] < e["end"] <= b
    interviewer = q(
        db_path,
        "SELECT count(*) FROM suggestions s JOIN turns t ON t.id = s.turn_id JOIN speakers sp "
        "ON sp.id = t.speaker_id WHERE sp.interviewer_id IS NOT NULL",
    )
    assert interviewer == [(0,)]
    exported = [json.loads(line) for line in cli("suggestions", "export").stdout.splitlines()]
    shown = q(db_path, "SELECT count(*) FROM suggestions WHERE score >= 0.5")[0][0]
    assert len(exported) == shown
    turns = dict(q(db_path, "SELECT interview_id || ':' || idx, text FROM turns"))
    for r in exported:
        turn_text = turns[f"{r['interview']}:{r['turn']}"]
        for e in r["evidence"]:
            assert turn_text[e["start"] : e["end"]] == e["text"]
    csv_lines = cli("suggestions", "export", "--format", "csv", "--all").stdout.splitlines()
    assert csv_lines[0] == "interview,turn,unit,start,end,code,score,source,evidence,probability"
    assert len(csv_lines) - 1 == q(db_path, "SELECT count(*) FROM suggestions")[0][0]


def test_rerun_scores_nothing_and_a_changed_code_replaces_only_its_suggestions(cli, db_path, project, tmp_path):
    first = json.loads(cli("suggest", "--format", "json").stdout)
    assert first["turns scored"] > 0 and first["already up to date"] == 0
    again = json.loads(cli("suggest", "--format", "json").stdout)
    assert again["turns scored"] == 0 and again["already up to date"] == first["turns scored"]
    before = dict(q(db_path, "SELECT s.id, c.key FROM suggestions s JOIN codes c ON c.id = s.code_id"))
    write(tmp_path / "changed.yml", SMALL.replace("      - covid\n", "      - covid-19 pandemic\n"))
    cli("codebook", "load", tmp_path / "changed.yml")
    third = json.loads(cli("suggest", "--format", "json").stdout)
    assert third["turns scored"] == first["turns scored"] and third["unchanged kept"] > 0
    after = dict(q(db_path, "SELECT s.id, c.key FROM suggestions s JOIN codes c ON c.id = s.code_id"))
    kept = {i for i, k in before.items() if k != "rel"}
    assert kept <= set(after)  # rows of unchanged codes survive with their ids
    assert not {i for i, k in before.items() if k == "rel"} & set(after)


def test_code_option_rescores_only_that_subtree(cli, db_path, project):
    cli("suggest")
    rel_before = q(db_path, "SELECT s.id FROM suggestions s JOIN codes c ON c.id = s.code_id WHERE c.key = 'rel'")
    cli("suggest", "--code", "Efficiency")
    rel_after = q(db_path, "SELECT s.id FROM suggestions s JOIN codes c ON c.id = s.code_id WHERE c.key = 'rel'")
    assert rel_before == rel_after


def test_missing_model_is_a_clear_error(cli, project):
    r = cli("suggest", "--model", "en_core_web_sm_not_installed", expect=1)
    assert "is not installed; qualcode never downloads models at run time" in r.stderr
    assert "Traceback" not in r.output


def test_suggest_without_codebook(cli):
    cli("import", CORPUS / "INT-01.md")
    r = cli("suggest", expect=1)
    assert "no codebook yet" in r.stderr


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped corpus with both coders' codings, trained on coder-a (built once: training takes a while)."""
    from tests.conftest import Cli

    path = tmp_path_factory.mktemp("shipped") / "s.db"
    cli = Cli(path)
    cli("import", CORPUS)
    cli("codebook", "load", CODEBOOK)
    cli("codings", "import", CODINGS / "coder-a.csv")
    cli("codings", "import", CODINGS / "coder-b.csv")
    trained = json.loads(cli("train", "--coder", "coder-a", "--format", "json").stdout)
    return cli, trained


@pytest.mark.slow
def test_training_is_deterministic_and_feeds_suggestions(shipped):
    cli, trained = shipped
    assert trained["examples"] == 386 and trained["coder"] == "coder-a" and not trained["unchanged"]
    again = json.loads(cli("train", "--coder", "coder-a", "--format", "json").stdout)
    assert again["version"] == trained["version"] and again["unchanged"]
    data = json.loads(cli("suggest", "--interview", "INT-01", "--format", "json").stdout)
    assert data["model"] == trained["version"]
    sources = {r[0] for r in q(cli.db_path, "SELECT DISTINCT source FROM suggestions")}
    assert {"model", "combined"} <= sources
    r = cli("train", "--coder", "nobody", expect=1)
    assert "coder 'nobody' has no decided turns" in r.stderr


@pytest.mark.slow
def test_evaluate_folds_never_share_an_interview(shipped):
    from qualcode.store.db import open_project
    from qualcode.suggest import classifier as model
    from qualcode.suggest import evaluate

    cli, _ = shipped
    db = open_project(cli.db_path)
    data = model.examples(db, "coder-a")
    folds = evaluate.folds_by_interview(data, 4, 0)
    flat = [i for f in folds for i in f]
    assert len(flat) == len(set(flat)) == 16 and len(folds) == 4
    result = json.loads(cli("suggest", "--evaluate", "--coder", "coder-b", "--folds", "2", "--format", "json").stdout)
    assert result["folds"] == 2 and result["turns"] == 386 and result["interviews"] == 16
    for variant in ("patterns", "model"):
        crit = result["variants"][variant]["criterion"]
        dac = [r for r in crit["rows"] if r["averaged"]]
        assert [r["code"] for r in dac] == [
            "Relevance",
            "Coherence",
            "Effectiveness",
            "Efficiency",
            "Impact",
            "Sustainability",
        ]
        assert crit["micro"]["support"] == sum(r["support"] for r in dac)
        tp = sum(r["tp"] for r in dac)
        fp = sum(r["fp"] for r in dac)
        assert crit["micro"]["precision"] == pytest.approx(tp / (tp + fp))
    assert result["variants"]["prechecked"]["suggestions"] > 0


@pytest.mark.slow
def test_stored_scores_put_each_label_threshold_on_the_shown_threshold_and_keep_the_probability(shipped):
    cli, trained = shipped
    cli("train", "--coder", "coder-a")
    cli("suggest", "--interview", "INT-05")
    labels = json.loads(q(cli.db_path, "SELECT labels FROM models WHERE active = 1")[0][0])
    thresholds = {info["code_id"]: info["threshold"] for info in labels.values() if info["kind"] == "criterion"}
    rows = q(
        cli.db_path,
        "SELECT code_id, score, model_score, probability FROM suggestions WHERE unit = 'turn' AND source != 'pattern'",
    )
    criteria = [r for r in rows if r[0] in thresholds]
    assert criteria and all(r[3] is not None and 0 <= r[3] <= 1 for r in rows)
    for code_id, score, raw, _ in criteria:  # shown (0.5, the codebook's min_score) exactly when the label says so
        assert (score >= 0.5) == (raw >= thresholds[code_id] - 1e-4)
    exported = [json.loads(line) for line in cli("suggestions", "export").stdout.splitlines()]
    assert exported and all(r["score"] >= 0.5 for r in exported)
    assert any(r["probability"] is not None for r in exported)


@pytest.mark.slow
def test_evaluate_scores_held_out_coders_on_interviews_the_coder_never_decided(tmp_path):
    from tests.conftest import ROOT, Cli

    cli = Cli(tmp_path / "h.db")
    cli("import", *sorted(CORPUS.glob("INT-*.md")), ROOT / "heldout" / "dev")
    cli("codebook", "load", CODEBOOK)
    cli("codings", "import", CODINGS / "coder-a.csv")
    cli("codings", "import", ROOT / "heldout" / "dev" / "codings" / "coder-f.csv")
    args = ["suggest", "--evaluate", "--coder", "coder-a", "--folds", "2", "--heldout-coder", "coder-f"]
    result = json.loads(cli(*args, "--curve", "4", "--format", "json").stdout)
    held = result["heldout"]["coder-f"]
    assert held["turns"] == 135 and held["interviews"] == 8
    crit = held["variants"]["model"]["criterion"]
    assert crit["micro"]["support"] == sum(r["support"] for r in crit["rows"] if r["averaged"]) > 0
    assert [c["interviews"] for c in result["curve"]] == [4] and result["curve"][0]["draws"] == 3
    assert 0 <= result["curve"][0]["f1"] <= 1
    table = cli(*args).stdout
    assert "held out, against coder-f" in table and "pre-checked" in table


def test_a_model_from_an_earlier_qualcode_is_named_not_used(cli, db_path, project):
    import sqlite3

    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO models (version, kind, coder, labels, data_hash, spacy_version, trained_at, examples, "
            "active, config, blob) VALUES ('tc-old', 'textcat_multilabel:lemmas+patterns', 'ana', '{}', 'h', "
            "'3.8', '2026-01-01', 10, 1, '', x'00')"
        )
    conn.close()
    r = cli("suggest", expect=1)
    assert "model tc-old was trained by an earlier qualcode" in r.stderr and "qualcode train --coder ana" in r.stderr
    assert json.loads(cli("suggest", "--no-model", "--format", "json").stdout)["turns scored"] > 0


def test_logistic_fit_threshold_and_calibration():
    import numpy as np

    from qualcode.suggest import linear

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(float)
    w, b = linear.fit(x, y)
    assert w[0] > 2 and abs(w[1]) < 1 and (linear.fit(x, y)[0] == w).all()  # deterministic
    p = linear.predict(x, w, b)
    t = linear.best_threshold(p, y)
    called = p >= t
    f1 = 2 * (called & (y == 1)).sum() / (called.sum() + y.sum())
    assert f1 >= max(2 * ((p >= s) & (y == 1)).sum() / ((p >= s).sum() + y.sum()) for s in np.linspace(0, 1, 101))
    xs, ys = linear.isotonic(p, y)
    assert ys == sorted(ys) and xs == sorted(xs) and ys[0] >= 0 and ys[-1] <= 1
    points = linear.isotonic(np.array([0.1, 0.2, 0.3]), np.array([1.0, 0.0, 1.0]))  # the first two pooled
    assert linear.calibrated(np.array([0.1, 0.15, 0.2, 0.3]), points).tolist() == [0.5, 0.5, 0.5, 1.0]
    w, b = linear.fit(x, np.zeros(200))  # one class only: a certain no, whatever the features
    assert not w.any() and (linear.predict(x, w, b) < 1e-9).all()
    assert linear.best_threshold(np.array([0.2, 0.4]), np.array([0.0, 0.0]), default=0.5) == 0.5
