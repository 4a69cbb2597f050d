"""YAML loading that remembers line numbers, so validation errors can name the line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from qualcode.errors import InputError


class LineMap(dict):
    """A mapping that knows the line of each key (1-based, in the file)."""

    line: int = 0
    lines: dict[str, int]
    item_lines: dict[str, list[int]]  # key → the line of each item of the list under it

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def line_of_item(self, key: str, index: int) -> int:
        """The line of item INDEX of the list under KEY (a plain list cannot carry lines): a duplicate in a list is
        reported on its own line, not on its key's."""
        lines = getattr(self, "item_lines", {}).get(key, [])
        return lines[index] if index < len(lines) else self.line_of(key)


# Nodes a document may hold once its aliases are expanded: twenty times the shipped DAC codebook. A few anchors
# nested ten deep ("billion laughs") expand to a billion nodes from a few hundred bytes and would hang whatever
# walks the result.
MAX_NODES = 200_000
# PyYAML composes nested lists and mappings recursively (several Python frames a level); past this depth a document
# is refused at the line where it goes too deep, before the recursion limit is reached.
MAX_NESTING = 200


class DuplicateKey(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message, self.line = message, line


class _LineMaps:
    line_offset = 0

    may_alias = True

    def construct_document(self, node):  # noqa: D102 - PyYAML hook
        if self.may_alias:  # without an alias (*name) a document is no bigger than its text
            _check_size(node)
        return super().construct_document(node)

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1 + self.line_offset
                if key in seen:
                    # The last one would silently win: a second `patterns:` empties a code, a second `codes:` drops a
                    # whole tree, a second `interview:` changes the id.
                    raise DuplicateKey(f"key {key_node.value!r} appears twice (also on line {seen[key]})", line)
                seen[key] = line
        plain = super().construct_mapping(node, deep=deep)
        m = LineMap(plain)
        m.line = node.start_mark.line + 1 + self.line_offset
        m.lines = {str(k.value): k.start_mark.line + 1 + self.line_offset for k, _ in node.value if hasattr(k, "value")}
        m.item_lines = {
            str(k.value): [item.start_mark.line + 1 + self.line_offset for item in v.value]
            for k, v in node.value
            if hasattr(k, "value") and isinstance(v, yaml.SequenceNode)
        }
        return m


def _check_size(root) -> None:
    """Count the nodes the document expands to, each alias as often as it is used; refuse a bomb or a cycle."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            raise yaml.YAMLError("an alias refers to the node that contains it (a recursive document)")
        open_.add(id(node))
        if isinstance(node, yaml.MappingNode):
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(v) for v in node.value)
        else:
            n = 1
        open_.discard(id(node))
        if n > MAX_NODES:
            raise yaml.YAMLError(
                f"the document's aliases (*name) expand it to more than {MAX_NODES:,} values; refused as a "
                "'billion laughs' document"
            )
        sizes[id(node)] = n
        return n

    size(root)


class _Loader(_LineMaps, yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"lists or mappings nested too deeply (more than {MAX_NESTING} levels)", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml's parser, where PyYAML has it, builds the same documents with the same line numbers about 7× faster: with
# the pure-Python one, front matter was the largest cost of importing a transcript after spaCy and SQLite. Its error
# messages differ (and can point a line further on), so a document it rejects is parsed again by _Loader to report.
_FastLoader = type("_FastLoader", (_LineMaps, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else _Loader


def _construct_map(loader: _Loader, node) -> LineMap:
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_FastLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def load(text: str, path: str | Path, *, line_offset: int = 0) -> Any:
    """Parse YAML; a syntax error becomes an InputError naming file and line."""
    try:
        fast = type("Loader", (_FastLoader,), {"line_offset": line_offset, "may_alias": "*" in text})
        return yaml.load(text, Loader=fast)  # noqa: S506
    except DuplicateKey as e:
        raise InputError(e.message, path=path, line=e.line) from None
    except ValueError as e:  # a value YAML recognises but cannot build: date: 2026-13-45
        raise InputError(
            f"invalid value: {e} (quote it to keep it as text)", path=path, line=_line_of(text, line_offset)
        ) from None
    except (yaml.YAMLError, RecursionError):
        pass  # parsed again below, for the pure-Python parser's message and line
    loader = type("Loader", (_Loader,), {"line_offset": line_offset})
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - SafeLoader subclass
    except DuplicateKey as e:
        raise InputError(e.message, path=path, line=e.line) from None
    except ValueError as e:
        raise InputError(
            f"invalid value: {e} (quote it to keep it as text)", path=path, line=_line_of(text, line_offset)
        ) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = (e.problem or e.context or "invalid YAML").strip()
        raise InputError(f"invalid YAML: {problem}", path=path, line=line) from e
    except yaml.reader.ReaderError as e:  # a character YAML refuses: PyYAML says where only as an index into TEXT
        start = text.rfind("\n", 0, e.position) + 1
        raise InputError(
            f"invalid YAML: unacceptable character U+{e.character:04X} at column {e.position - start + 1}: {e.reason}",
            path=path,
            line=text.count("\n", 0, e.position) + 1 + line_offset,
        ) from e
    except yaml.YAMLError as e:
        raise InputError(f"invalid YAML: {e}", path=path) from e
    except RecursionError:  # PyYAML composes nested collections recursively
        raise InputError("invalid YAML: lists or mappings nested too deeply", path=path) from None


def _line_of(text: str, offset: int) -> int | None:
    """PyYAML's constructors raise a bare ValueError: find the first date-like value that does not make a date."""
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"\b(\d{4})-(\d\d?)-(\d\d?)\b", line):
            try:
                dt.date(*map(int, m.groups()))
            except ValueError:
                return n + offset
    return None


def scalar(value: Any) -> str | None:
    """YAML scalars as the text a user would expect (dates stay ISO, numbers as written)."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
