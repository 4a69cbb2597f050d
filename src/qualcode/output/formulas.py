"""CSV cells a spreadsheet would run as formulas are written as text (CSV injection).

A cell whose text begins with `=`, `+`, `-`, `@`, a tab or a carriage return is opened by Excel, LibreOffice and
Google Sheets as a formula: a quote from a transcript such as `=HYPERLINK("http://…", "click")` would become a live
link, and worse. Such a cell is written with a leading apostrophe (`'=HYPERLINK(…)`), which spreadsheets show as
text and do not display.

Numbers are not formulas: a cell that is a number (`-0.25`, `+3`, `-1e-05`: an optional sign, digits, an optional
decimal part and exponent, nothing else) is written as it is, so negative numbers stay numbers. Nothing that could
carry a formula or a command fits that pattern.

The rule is reversible, so `codings export` and `codings import` still round-trip exactly: an apostrophe is added
before any run of apostrophes followed by one of those characters, and `unescape` takes exactly one off again.
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def escape(text: str) -> str:
    """TEXT as a CSV cell a spreadsheet shows as text (see the module docstring)."""
    if text.startswith(TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    if text.startswith("'") and _ESCAPED.match(text):
        return "'" + text
    return text


def unescape(text: str) -> str:
    """The cell `escape` was given, from what it wrote."""
    return text[1:] if _ESCAPED.match(text) else text
