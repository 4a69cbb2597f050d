"""The main job on the shipped corpus: from transcripts to the report, in a fresh project folder.

It runs the same library functions as the commands, in the order an evaluation team would: import, codebook,
both coders' codings, train on coder-a and suggest, audit the two coders, and write the exports and the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import ConflictError, NotFoundError, QualcodeError
from qualcode.output.render import plural

PROJECT = "project.db"
DEMO_MARK = ("made_by", "qualcode demo")  # a project value: the demo replaces a project.db only when it has it
REPORTING_CODER = "coder-a"


def shipped() -> Path:
    """Where the shipped corpus, codebook and codings are: inside the installed package (qualcode/data/, put there
    when the wheel is built; see setup.py), else the repository this module runs from (a checkout, or an editable
    install of one)."""
    from importlib import resources

    data = Path(str(resources.files("qualcode") / "data"))
    return data if data.is_dir() else Path(__file__).resolve().parents[2]


@dataclass
class Sources:
    transcripts: Path
    codebook: Path
    codings: list[Path]
    # Survey answers and documents, imported after the transcripts, and their codings after the interviews'.
    evidence: list[Path] = field(default_factory=list)
    evidence_codings: list[Path] = field(default_factory=list)

    @classmethod
    def find(
        cls,
        root: Path | None = None,
        transcripts: Path | None = None,
        codebook: Path | None = None,
        codings: Path | None = None,
    ) -> Sources:
        root = root or shipped()
        t = transcripts or root / "transcripts"
        c = codebook or root / "codebooks" / "dac.yml"
        k = codings or root / "codings"
        missing = [str(p) for p in (t, c, k) if not p.exists()]
        if missing:
            raise NotFoundError(
                f"cannot find {', '.join(missing)}: name the material with --transcripts, --codebook and --codings"
            )
        files = sorted(k.glob("*.csv")) if k.is_dir() else [k]
        if not files:
            raise NotFoundError(f"no coding files (*.csv) in {k}")
        if transcripts is not None or codings is not None:
            return cls(t, c, files)  # the user's own material: the shipped surveys and documents are not theirs
        evidence = [p for p in (root / "surveys", root / "documents") if p.is_dir()]
        return cls(t, c, files, evidence, sorted((k / "evidence").glob("*.csv")) if evidence else [])


@dataclass
class Outcome:
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    overview: dict = field(default_factory=dict)


def fresh_project(folder: Path):
    """A new project file in FOLDER, marked as the demo's. An earlier demo's project there is replaced; any other
    project.db (a project of the user's, a file of another program) is refused and left as it was."""
    from qualcode.store.db import open_project, peek_project_value, set_project_value

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise QualcodeError(f"cannot create {folder}: {e.strerror or e}") from e
    project = folder / PROJECT
    if project.exists() or project.is_symlink():
        if peek_project_value(project, DEMO_MARK[0]) != DEMO_MARK[1]:
            raise ConflictError(
                "not a project 'qualcode demo' made, and the demo replaces only its own: it was left as it was; "
                "choose another folder with --out",
                path=project,
            )
        for suffix in ("", "-wal", "-shm"):
            (folder / (PROJECT + suffix)).unlink(missing_ok=True)
    db = open_project(project, create=True)
    set_project_value(db, *DEMO_MARK)
    return db


def run(folder: Path, sources: Sources) -> Iterator[str | Outcome]:
    """Do the whole job; yields a line per step (for progress), then the Outcome."""
    from qualcode.agreement import audit
    from qualcode.codebook.store import load as load_codebook
    from qualcode.coding import files as codings_io
    from qualcode.export import files as export_files
    from qualcode.ingest import participants
    from qualcode.ingest.importer import import_paths
    from qualcode.store.queries import coders as project_coders
    from qualcode.suggest import classifier
    from qualcode.suggest.run import suggest

    db = fresh_project(folder)
    out = Outcome(folder)
    for paths in ([sources.transcripts], sources.evidence):
        results = list(import_paths(db, paths)) if paths else []
        failed = [r for r in results if r.failed]
        if failed:
            raise QualcodeError(f"{plural(len(failed), 'file')} failed to import; first: {failed[0].message}")
        if results:
            yield f"imported {plural(len(results), 'file')} from {', '.join(p.name for p in paths)}"
    load_codebook(db, sources.codebook)
    yield f"loaded the codebook {sources.codebook.name}"
    for f in [*sources.codings, *sources.evidence_codings]:
        r = codings_io.import_file(db, f)
        yield f"imported {plural(r['rows'], 'coding row')} from {f.parent.name}/{f.name}"
    trained = classifier.train(db, REPORTING_CODER)
    yield f"trained the text classifier on {plural(trained['examples'], 'turn')} decided by {REPORTING_CODER}"
    report = suggest(db)
    yield f"scored {plural(report.turns, 'turn')}: {plural(report.shown, 'suggestion')} shown to coders"
    coders = project_coders(db, with_codings=True)
    agreement = audit.audit(db, coders) if len(coders) >= 2 else None
    yield "audited the coders' agreement" if agreement else "one coder only: no agreement audit"
    write = _writer(out)
    if agreement:
        from qualcode.agreement import format as audit_format

        write("audit.md", audit_format.to_markdown(agreement))
        write("audit.json", json.dumps(agreement, ensure_ascii=False, indent=2, default=str))
    coder = REPORTING_CODER if REPORTING_CODER in coders else None
    write("summary.md", export_files.summary(db, "md", coder=coder)[0])
    write("summary.xlsx", export_files.summary(db, "xlsx", coder=coder)[0])
    for by in ("gender", "stakeholder_group", "case_study"):
        content, _ = export_files.matrix(db, by, "csv", count="participants", level="criterion", coder=coder)
        write(f"matrix-{by.replace('_', '-')}.csv", content)
    if sources.evidence:  # triangulation: in how many interviews, surveys and documents each criterion comes up
        content, _ = export_files.matrix(db, "source", "csv", count="segments", level="criterion", coder=coder)
        write("matrix-source.csv", content)
    write("participants.md", export_files.participants(db, "md"))
    write("participants.xlsx", export_files.participants(db, "xlsx"))
    write("segments.csv", export_files.segments(db, "csv", coder=coder)[0])
    write("report.html", export_files.report(db, coder=coder)[0])
    yield f"wrote {plural(len(out.files), 'file')}"
    out.overview = _overview(db, participants.counts(db, "stakeholder_group"), agreement, coder)
    yield out


def _writer(out: Outcome):
    from qualcode.output.files import write as save

    def write(name: str, content: str | bytes) -> None:
        save(out.folder / name, content, project=out.folder / PROJECT)
        out.files[name] = out.folder / name

    return write


def _overview(db, people: dict, agreement: dict | None, coder: str | None) -> dict:
    from qualcode.codebook.tree import CodeTree
    from qualcode.ingest import participants

    tree = CodeTree.load(db)
    turns: dict[str, set] = {}
    for turn_id, code_id in db.execute(
        "SELECT turn_id, code_id FROM live_codings WHERE coder = ? AND code_id IS NOT NULL", [coder]
    ):
        turns.setdefault(tree[code_id].criterion, set()).add(turn_id)
    criteria = sorted(((name, len(t)) for name, t in turns.items()), key=lambda x: -x[1])
    agree = []
    if agreement:
        for r in agreement["rows"]:
            if r["level"] in ("criterion", "overall"):
                st = r["statistics"]
                agree.append(
                    {
                        "code": r["code"] or "all codes pooled",
                        "kappa": st["cohen_kappa"]["value"],
                        "alpha": st["krippendorff_alpha"]["value"],
                        "band": (st["krippendorff_alpha"]["band"] or {}).get("label"),
                    }
                )
    return {
        "participants": people,
        "sources": dict(db.execute("SELECT kind, count(*) FROM interviews GROUP BY kind").fetchall()),
        "respondents": participants.counts(db, kind="respondent"),
        "criteria": criteria,
        "coder": coder,
        "agreement": agree,
        "scope": agreement["scope"]["text"] if agreement else None,
    }
