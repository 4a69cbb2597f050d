"""Trained text classifiers as the project stores them: which one is active, and loading it back."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

# The probability at which the classifier's own vote counts as a suggestion (it is rescaled so this lands on the
# codebook's threshold). Cross-validation on the shipped corpus, with the noisy-or combination, peaked between 0.45
# and 0.55 for both coders (0.35 gave 0.06 less micro-F1, precision falling to 0.45).
DECISION_THRESHOLD = 0.5
KIND = "textcat_multilabel:lemmas+patterns"


@dataclass
class LoadedModel:
    version: str
    coder: str
    labels: dict[str, dict]  # label → {code_id, key, kind, path, threshold, ...}
    nlp: object


def active(db: Database) -> LoadedModel | None:
    row = db.execute(
        "SELECT version, coder, labels, config, blob FROM models WHERE active = 1 ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if not row:
        return None
    return LoadedModel(row[0], row[1], json.loads(row[2]), from_bytes(row[3], row[4]))


def from_bytes(config: str, blob: bytes):
    from spacy.util import load_model_from_config
    from thinc.api import Config

    nlp = load_model_from_config(Config().from_str(config), auto_fill=True)
    return nlp.from_bytes(blob)
