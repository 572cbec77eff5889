"""Ranking metrics at a cutoff, as trec_eval computes them, for when ir-measures is absent.

``bench/relevance.py`` uses ir-measures (pytrec_eval) when it is installed and
these functions otherwise; ``tests/test_metrics.py`` checks them against
hand-computed cases and, when it is installed, against ir-measures.

Conventions (trec_eval's): a document is relevant when its gain is above 0;
nDCG uses the gain itself (linear) and a log2(rank + 1) discount, with the
ideal ranking taken from every judged document of the query; a query that
returned nothing scores 0 on all three.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]  # qid -> docid -> gain
Run = Mapping[str, Sequence[str]]  # qid -> docids, best first

MEASURES = ("MRR@10", "Recall@10", "nDCG@10")


def reciprocal_rank(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document in the top ``k``; 0 when there is none."""
    for rank, docid in enumerate(ranking[:k], start=1):
        if judged.get(docid, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """Share of the relevant documents found in the top ``k``; 0 when none is relevant."""
    relevant = {docid for docid, gain in judged.items() if gain > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def ndcg(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain of the top ``k`` (linear gains)."""
    ideal_gains = sorted((gain for gain in judged.values() if gain > 0), reverse=True)[:k]
    ideal = _dcg(ideal_gains)
    if ideal == 0:
        return 0.0
    seen: set[str] = set()
    gains = []
    for docid in ranking[:k]:
        gains.append(0 if docid in seen else max(judged.get(docid, 0), 0))
        seen.add(docid)
    return _dcg(gains) / ideal


def _dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def per_query(run: Run, qrels: Qrels, k: int = 10) -> dict[str, dict[str, float]]:
    """Every measure of every judged query (queries missing from the run score 0)."""
    scores: dict[str, dict[str, float]] = {}
    for qid, judged in qrels.items():
        ranking = run.get(qid, ())
        scores[qid] = {
            f"MRR@{k}": reciprocal_rank(ranking, judged, k),
            f"Recall@{k}": recall(ranking, judged, k),
            f"nDCG@{k}": ndcg(ranking, judged, k),
        }
    return scores


def mean(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The mean of each measure over the queries."""
    if not scores:
        return {}
    names = next(iter(scores.values())).keys()
    return {name: sum(q[name] for q in scores.values()) / len(scores) for name in names}
