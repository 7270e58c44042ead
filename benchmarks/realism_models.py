"""The realism bench's models: what a classifier sees of a row, and how well it tells canaries apart.

- text: character 1-3-gram TF-IDF + logistic regression, on the whole row
  (identifier left out) and on each column alone;
- numeric "cells" (the row alone): per cell lengths, digit/letter/CJK counts,
  digit-run values, hour/second of timestamps;
- numeric "context" (the row in its export): neighbours' districts, roads,
  items, time and identifier order, how often each phone/name/email/address
  occurs; "near-copy": how much the closest row within +-MAX_SHIFT shares;
- the unlabelled attack a broker can run because tracer is public: drop every
  row whose given names are all on faker's lists.

All scored with stratified 5-fold cross-validation grouped by source record.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from datetime import datetime

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline

from realism_data import CJK, MAX_SHIFT, Dataset, Row, twin_score, window

FOLDS = 5
NEIGHBOURS = (1, 2, 3)  # rows above and below compared with each row
DIGITS = re.compile(r"\d+")
FREQUENCY_KINDS = ("phone", "name", "email", "address")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def _shape(text: str) -> str:
    """A cell without its digits: NFKC, digits as '#', lower case."""
    return DIGITS.sub("#", unicodedata.normalize("NFKC", text)).lower()


def _parse_time(text: str) -> float | None:
    text = unicodedata.normalize("NFKC", text).strip()
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    return None


def _id_number(text: str) -> float | None:
    runs = DIGITS.findall(text)
    return float(max(runs, key=len)) if runs else None


def _address_parts(text: str) -> list[str]:
    """Digit-free pieces of an address (district, road, estate...), for neighbour comparison."""
    text = unicodedata.normalize("NFKC", text)
    if CJK.search(text):
        parts = re.findall(r".+?(?:省|自治区|市|区|县|路|街|大道|道|花园|小区|家园|新村|苑|城|里|大厦|中心|广场)", DIGITS.sub("", text))
        return [p for p in parts if len(p) >= 2][:6]
    return [w.lower() for w in re.findall(r"[A-Za-z]+", text)]


def cell_features(text: str, kind: str) -> list[float]:
    t = unicodedata.normalize("NFKC", text)
    runs = DIGITS.findall(t)
    feats = [
        len(t), sum(c.isdigit() for c in t), sum(c.isalpha() and c.isascii() for c in t),
        len(CJK.findall(t)), len(runs), max((len(r) for r in runs), default=0),
        sum(c.isupper() for c in t), sum(not c.isalnum() for c in t),
    ]
    vals = [float(r) for r in runs[:4]] + [-1.0] * (4 - min(4, len(runs)))
    feats += [math.log1p(v) if v >= 0 else -1.0 for v in vals]
    feats += [float(runs[-1][-1]) if runs else -1.0, float(runs[-1][-2:]) if runs and len(runs[-1]) > 1 else -1.0]
    if kind == "datetime":
        when = _parse_time(t)
        dt = datetime.fromtimestamp(when) if when is not None else None
        feats += [dt.hour, dt.minute, dt.second, dt.weekday(), dt.timetuple().tm_yday] if dt else [-1.0] * 5
    if kind == "number":
        try:
            feats += [float(t)]
        except ValueError:
            feats += [-1.0]
    return feats


def context_features(data: Dataset, e: int, p: int, counts: list[Counter], column: int) -> list[float]:
    """How cell ``column`` of row ``p`` of export ``e`` relates to its export: neighbours, near-copies, frequency."""
    rows, keys = data.exports[e], data.keys[e]
    kind = data.kinds[column]
    cell = rows[p][column]
    mine = keys[p][column]
    feats: list[float] = [
        sum(1 for q in window(rows, p) if q != p and mine and keys[q][column] == mine)  # near-copies of this cell
    ]
    if kind in FREQUENCY_KINDS:
        feats.append(counts[column][_shape(cell) if kind == "address" else cell])
    for k in NEIGHBOURS:
        for q in (p - k, p + k):
            if not 0 <= q < len(rows):
                feats += [-1.0, -1.0]
                continue
            other = rows[q][column]
            if kind == "datetime":
                a, b = _parse_time(cell), _parse_time(other)
                d = (a - b) if a is not None and b is not None else 0.0
                feats += [math.copysign(math.log1p(abs(d)), d), float(d > 0) if q < p else float(d < 0)]
            elif kind == "id":
                a, b = _id_number(cell), _id_number(other)
                d = (a - b) if a is not None and b is not None else 0.0
                feats += [math.copysign(math.log1p(abs(d)), d), float(d > 0) if q < p else float(d < 0)]
            elif kind == "address":
                pa, pb = _address_parts(cell), _address_parts(other)
                same = sum(1 for x, y in zip(pa, pb) if x == y)
                feats += [same, float(bool(set(pa) & set(pb)))]
            else:
                feats += [float(cell == other), float(_shape(cell) == _shape(other))]
    if kind == "datetime":  # out of order against both sides at once
        a = _parse_time(cell)
        prev = _parse_time(rows[p - 1][column]) if p > 0 else None
        nxt = _parse_time(rows[p + 1][column]) if p + 1 < len(rows) else None
        inside = a is not None and (prev is None or prev <= a) and (nxt is None or a <= nxt)
        feats.append(float(inside))
    if kind == "id":
        a = _id_number(cell)
        prev = _id_number(rows[p - 1][column]) if p > 0 else None
        nxt = _id_number(rows[p + 1][column]) if p + 1 < len(rows) else None
        inside = a is not None and (prev is None or prev <= a) and (nxt is None or a <= nxt)
        feats.append(float(inside))
    return feats


def twin_features(data: Dataset, row: Row) -> list[float]:
    """Does a row within +-MAX_SHIFT look like the row's donor (or its canary)?"""
    rows, keys = data.exports[row.export], data.keys[row.export]
    mine = keys[row.position]
    scores = sorted((twin_score(mine, keys[q]) for q in window(rows, row.position) if q != row.position),
                    reverse=True) + [0, 0]
    same_address = [
        sum(1 for q in window(rows, row.position) if q != row.position and keys[q][c] == mine[c])
        for c, kind in enumerate(data.kinds) if kind == "address"
    ]
    return [scores[0], scores[1], sum(1 for x in scores if x >= scores[0] - 1)] + same_address


def build_features(data: Dataset, chosen: list[Row], context: bool = True) -> dict[str, dict[int, np.ndarray]]:
    """{'cells'|'context': {column: matrix}, 'twin': matrix} for the chosen rows (context ones if asked)."""
    ncol = len(data.header)
    out: dict = {"cells": {}, "context": {}}
    for c in range(ncol):
        out["cells"][c] = np.array([cell_features(r.cells[c], data.kinds[c]) for r in chosen], dtype=float)
    if not context:
        return out
    counts_by_export = [[Counter((_shape(r[c]) if data.kinds[c] == "address" else r[c]) for r in rows)
                         for c in range(ncol)] for rows in data.exports]
    out["twin"] = np.array([twin_features(data, r) for r in chosen], dtype=float)
    for c in range(ncol):
        out["context"][c] = np.array(
            [context_features(data, r.export, r.position, counts_by_export[r.export], c) for r in chosen],
            dtype=float,
        )
    return out


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------

def text_model():
    """The classifier the issue names: character 1-3-grams, TF-IDF, logistic regression."""
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
        LogisticRegression(class_weight="balanced", max_iter=2000, C=1.0),
    )


def numeric_model():
    return HistGradientBoostingClassifier(max_iter=80, learning_rate=0.1, max_leaf_nodes=15, max_bins=64,
                                          class_weight="balanced", random_state=0)


def cv_auc(make, X, y: np.ndarray, groups: list[str], seed: int) -> tuple[float, float]:
    folds = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    scores = []
    for train, test in folds.split(np.zeros(len(y)), y, groups):
        model = make()
        Xtr = [X[i] for i in train] if isinstance(X, list) else X[train]
        Xte = [X[i] for i in test] if isinstance(X, list) else X[test]
        model.fit(Xtr, y[train])
        scores.append(roc_auc_score(y[test], model.predict_proba(Xte)[:, 1]))
    return float(np.mean(scores)), float(np.std(scores))


def faker_filter(data: Dataset) -> tuple[int, int, int, int]:
    """The broker's attack without labels: drop rows whose every person's given name is on faker's list.

    Returns (canaries removed, canaries, real rows removed, real rows).
    """
    from faker.providers.person.en_US import Provider as English
    from faker.providers.person.zh_CN import Provider as Chinese

    chinese, english = set(Chinese.first_names), {n.lower() for n in English.first_names}
    names = [i for i, (h, k) in enumerate(zip(data.header, data.kinds)) if k == "name"]

    def given(name: str) -> str | None:
        name = name.strip()
        if CJK.search(name):
            return name[1:] if len(name) > 1 else None
        parts = name.split()
        return parts[0].lower() if len(parts) > 1 else None

    def listed(row: Row) -> bool:
        found = [given(row.cells[i]) for i in names]
        found = [g for g in found if g]
        return bool(found) and all(g in chinese or g in english for g in found)

    canaries = [r for r in data.rows if r.canary]
    real = [r for r in data.rows if not r.canary]
    return sum(map(listed, canaries)), len(canaries), sum(map(listed, real)), len(real)
