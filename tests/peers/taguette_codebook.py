"""Taguette 1.5.2's own codebook code, both ways: run by tests/test_peers.py in the peers' virtual environment.

python taguette_codebook.py read FILE.csv OUT.json    what Taguette's "Import codebook" reads of a CSV
python taguette_codebook.py write TAGS.json OUT.csv OUT.qdc
                                                     Taguette's codebook exports (CSV, REFI-QDA) of those tags
"""

import json
import sys
import warnings
from types import SimpleNamespace

warnings.simplefilter("ignore")  # Taguette's dependencies warn about pkg_resources on import

from taguette import export, import_codebook  # noqa: E402


def read(csv_file: str, out: str) -> None:
    with open(csv_file, "rb") as f:
        tags = import_codebook.list_tags(f)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tags, f)


def write(tags_file: str, csv_out: str, qdc_out: str) -> None:
    with open(tags_file, encoding="utf-8") as f:
        tags = [SimpleNamespace(highlights_count=0, documents_count=0, **t) for t in json.load(f)]
    with open(csv_out, "w", encoding="utf-8", newline="") as f:
        export.codebook_csv(tags, f)
    export.codebook_xml(tags, qdc_out)


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]](*sys.argv[2:])
