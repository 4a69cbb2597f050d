"""The REFI-QDA 1.0 XML schemas (Project.xsd, Codebook.xsd; see SOURCE.md), and validation against them."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from qualcode.errors import QualcodeError

NAMES = ("Project.xsd", "Codebook.xsd")


def path(name: str):
    """The vendored schema file NAME, wherever the package is installed."""
    if name not in NAMES:
        raise ValueError(name)
    return files(__package__).joinpath(name)


@cache
def _schema(name: str):
    from lxml import etree

    with path(name).open("rb") as f:
        return etree.XMLSchema(etree.parse(f))


def validate(name: str, document: bytes) -> None:
    """Refuse to write a file other tools would reject: a schema error here is qualcode's bug, said as such."""
    from lxml import etree

    schema = _schema(name)
    if not schema.validate(etree.fromstring(document)):
        first = schema.error_log.filter_from_errors()[0]
        raise QualcodeError(
            f"qualcode produced a REFI-QDA document that {name} rejects (line {first.line}: {first.message}); "
            "nothing was written. Please report this as a bug."
        )
