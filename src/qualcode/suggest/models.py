"""Trained classifiers as the project stores them: which one is active, and loading it back.

A model is JSON: the feature space it reads (`suggest.features`) and, per label, its weights, bias, decision
threshold and calibration, all chosen by cross-validation when it was trained (`suggest.classifier`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from qualcode.errors import ConflictError
from qualcode.suggest.features import FeatureSpace

KIND = "logistic:patterns+context+vocabulary"


@dataclass
class LoadedModel:
    version: str
    coder: str
    labels: dict[str, dict]  # label → {code_id, key, kind, path, threshold, calibration, ...}
    space: FeatureSpace
    weights: np.ndarray  # features × labels, columns in the order of `labels`
    bias: np.ndarray


def active(db: Database) -> LoadedModel | None:
    row = db.execute(
        "SELECT version, coder, kind, blob FROM models WHERE active = 1 ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if not row:
        return None
    if row[2] != KIND:
        raise ConflictError(
            f"the project's model {row[0]} was trained by an earlier qualcode ({row[2]}); train it again with "
            f"'qualcode train --coder {row[1]}', or score with patterns only (--no-model)"
        )
    return from_bytes(row[0], row[1], row[3])


def to_bytes(space: FeatureSpace, labels: dict[str, dict]) -> bytes:
    return json.dumps({"features": space.to_json(), "labels": labels}, sort_keys=True).encode()


def from_bytes(version: str, coder: str, blob: bytes) -> LoadedModel:
    data = json.loads(blob)
    labels = data["labels"]
    space = FeatureSpace.from_json(data["features"])
    weights = np.array([labels[k]["weights"] for k in labels]).reshape(len(labels), len(space.names)).T
    bias = np.array([labels[k]["bias"] for k in labels])
    return LoadedModel(version, coder, labels, space, weights, bias)
