"""What pyqdpx 0.1.8 reads of a .qdpx, as JSON: run by tests/test_peers.py in the peers' virtual environment.

Usage: python read_qdpx.py FILE.qdpx OUT.json (pyqdpx needs Python >= 3.12). pyqdpx prints its warnings on stdout.
"""

import json
import sys

from pyqdpx import QDPX


def path(code) -> str:
    parts = []
    while code is not None:
        parts.append(code.name)
        code = code.parent
    return "/".join(reversed(parts))


def main(qdpx: str, out: str) -> None:
    project = QDPX(qdpx).get_project()
    data = {
        "users": sorted(u.name for u in project.users.values()),
        "codes": sorted(path(c) for c in project.codes.values()),
        "sources": sorted(s.name for s in project.sources.values()),
        "selections": [
            {"source": s.name, "code": path(sel.code), "user": sel.user.name, "text": sel.text}
            for s in project.sources.values()
            for sel in s.coded_selections.values()
        ],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
