"""Documentation generated from the code itself, so it cannot drift: run `python -m cogapp -r README.md docs/*.md`.

The command reference is each command's own `--help`; the schema is what the migrations create, one migration at a
time. tests/test_docs.py fails when a generated section is stale.
"""

from __future__ import annotations

import os
import re

WIDTH = "100"


def _help(args: list[str]) -> str:
    from typer.testing import CliRunner

    from qualcode.cli import app

    env = {"COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = CliRunner().invoke(app, [*args, "--help"], prog_name="qualcode")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return result.stdout.rstrip() + "\n"


def commands() -> list[tuple[list[str], object]]:
    """Every command path in registration order, with its click command (groups included)."""
    from typer.main import get_command

    from qualcode.cli import app

    out = []

    def walk(cmd, path):
        for name, sub in cmd.commands.items():
            out.append(([*path, name], sub))
            if hasattr(sub, "commands"):
                walk(sub, [*path, name])

    walk(get_command(app), [])
    return out


def _first_line(cmd) -> str:
    return (cmd.help or "").strip().split("\n")[0]


def _example(cmd) -> str:
    m = re.search(r"Example:\s*`([^`]+)`", cmd.help or "")
    return m.group(1) if m else ""


def summary_table() -> str:
    """The README's table: command, what it does, an example."""
    lines = ["| command | what it does | example |", "|---|---|---|"]
    for path, cmd in commands():
        if hasattr(cmd, "commands") and not getattr(cmd, "invoke_without_command", False):
            continue
        example = _example(cmd).replace("|", "\\|")
        lines.append(f"| `qualcode {' '.join(path)}` | {_first_line(cmd)} | `{example}` |")
    return "\n".join(lines) + "\n"


def reference() -> str:
    """docs/commands.md: the full `--help` of qualcode and of every command."""
    parts = ["## qualcode\n\n```text\n" + _help([]) + "```\n"]
    for path, _ in commands():
        parts.append(f"## qualcode {' '.join(path)}\n\n```text\n" + _help(path) + "```\n")
    return "\n".join(parts)


def schema() -> str:
    """docs/schema.md: for each migration, the tables, indexes and triggers it creates, as SQLite stores them."""
    import sqlite3

    from sqlite_utils import Database

    from qualcode.store.migrations import migrations

    db = Database(sqlite3.connect(":memory:", isolation_level=None), execute_plugins=False)
    migrations.ensure_migrations_table(db)
    seen = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    parts = []
    for m in migrations._migrations:  # the registered order is the history
        doc = " ".join((m.fn.__doc__ or "").split())
        with db.atomic():
            m.fn(db)
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
        new = [(t, n, sql) for t, n, sql in rows if n not in seen and not n.startswith("turns_fts_")]
        seen |= {n for _, n, _ in rows}
        parts.append(f"## {m.name}\n")
        if doc:
            parts.append(doc + "\n")
        parts.append("```sql\n" + ";\n\n".join(_tidy(sql) for _, _, sql in new) + ";\n```\n")
    return "\n".join(parts)


def _tidy(sql: str) -> str:
    import textwrap

    first, _, rest = sql.strip().partition("\n")
    return first + ("\n" + textwrap.indent(textwrap.dedent(rest), "    ").rstrip() if rest else "")
