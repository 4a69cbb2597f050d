"""REFI-QDA codebooks (.qdc) out and in."""

from __future__ import annotations

import sqlite3
from functools import cache

from tests.conftest import SHARED, Cli, needs_schemas, write

CODEBOOK = """\
codebook: Test codes
codes:
  - name: Relevance
    colour: steelblue
    definition: Whether the work fits what constituents need.
    include: Mentions of needs.
    exclude: Generic praise.
    examples: [They asked us for exactly this.]
    children:
      - name: Constituent needs
        patterns: [needs]
      - name: COVID adaptation
  - name: Efficiency
    codable: false
    children:
      - name: Delays
      - name: Funding
"""


@cache
def schema(name: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SHARED / "refi-qda" / name)))


def assert_valid(name: str, data: bytes) -> None:
    from lxml import etree

    s = schema(name)
    assert s.validate(etree.fromstring(data)), s.error_log


def flat(text: str) -> str:
    """Messages on stderr as one line: Rich wraps them at the terminal width."""
    return " ".join(text.split())


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- codebooks -------------------------------------------------------------------------------------------------------


@needs_schemas
def test_qdc_export_validates_and_reimports_to_the_same_tree(cli, db_path, tmp_path):
    cli("codebook", "load", write(tmp_path / "codebook.yml", CODEBOOK))
    qdc = tmp_path / "codes.qdc"
    r = cli("codebook", "export", "--format", "qdc", "-o", qdc)
    assert f"wrote codebook to {qdc}" in flat(r.stderr)
    assert_valid("Codebook.xsd", qdc.read_bytes())
    text = qdc.read_text(encoding="utf-8")
    assert 'isCodable="false"' in text and 'color="#4682b4"' in text
    assert "Include: Mentions of needs.\n\nExclude: Generic praise." in text

    columns = "c.guid, c.name, p.guid, c.codable, c.colour, c.definition, c.include, c.exclude, c.examples"
    tree = f"SELECT {columns} FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.guid"
    other = Cli(tmp_path / "other.db")
    r = other("codebook", "import", qdc)
    assert r.stdout.startswith(f"Imported codebook 'codes' from {qdc}: 6 added, 0 renamed, 0 removed.")
    assert rows(other.db_path, tree) == rows(db_path, tree)

    # Back into the project it came from: the same codes, and what REFI cannot carry (patterns) is kept.
    r = cli("codebook", "import", qdc)
    assert "0 added, 0 renamed, 0 removed" in r.stdout
    assert rows(db_path, "SELECT patterns FROM codes WHERE name = 'Constituent needs'") == [
        ('[{"phrase": "needs", "weight": 0.6}]',)
    ]


def test_qdc_import_accepts_real_world_quirks(cli, db_path, tmp_path):
    qdc = tmp_path / "quirks.qdc"
    qdc.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\r\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="X">\r\n'
        b"<Codes>\r\n"
        b'<Code guid="{a182cd3a-d83c-4d8c-bc80-26d9103ec6d6}" name="Themes" isCodable="false" color="#ff000080">\r\n'
        b'  <Code guid="2d2466f0-d77f-4f8c-bdf9-628966b6b74d" name="Yes/No" isCodable="true" color="#0F0"/>\r\n'
        b"</Code>\r\n</Codes>\r\n<Sets/>\r\n</CodeBook>\r\n"
    )
    r = cli("codebook", "import", qdc)
    assert "2 added" in r.stdout
    assert "code 'Themes': colour '#ff000080' has an alpha channel: stored as #ff0000" in flat(r.stderr)
    assert "code 'Yes/No': '/' separates levels in qualcode paths, stored as 'Yes\u2215No'" in flat(r.stderr)
    assert rows(db_path, "SELECT name, guid, codable, colour FROM codes ORDER BY id") == [
        ("Themes", "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6", 0, "#ff0000"),
        ("Yes\u2215No", "2D2466F0-D77F-4F8C-BDF9-628966B6B74D", 1, "#00ff00"),
    ]
