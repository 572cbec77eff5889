"""bench/metrics.py against hand-computed cases, and against ir-measures when installed."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import metrics  # noqa: E402

GRADED = {"a": 1, "b": 2, "z": 0}  # z judged, not relevant


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert metrics.reciprocal_rank(["x", "b", "a"], GRADED) == 0.5
    assert metrics.reciprocal_rank(["a"], GRADED) == 1.0
    assert metrics.reciprocal_rank(["z", "x", "y", "a"], GRADED) == 0.25


def test_reciprocal_rank_ignores_what_lies_past_the_cutoff() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["a"]
    assert metrics.reciprocal_rank(ranking, GRADED, k=10) == 0.0
    assert metrics.reciprocal_rank(ranking, GRADED, k=11) == pytest.approx(1 / 11)


def test_recall_counts_relevant_documents_in_the_top_k() -> None:
    assert metrics.recall(["x", "b", "a"], GRADED, k=2) == 0.5
    assert metrics.recall(["x", "b", "a"], GRADED, k=3) == 1.0
    assert metrics.recall(["z"], GRADED) == 0.0  # gain 0 is not relevant


def test_ndcg_uses_linear_gains_and_a_log2_discount() -> None:
    # DCG = 0 + 2/log2(3) + 1/log2(4); ideal = 2/log2(2) + 1/log2(3)
    expected = (2 / math.log2(3) + 1 / 2) / (2 + 1 / math.log2(3))
    assert metrics.ndcg(["x", "b", "a"], GRADED) == pytest.approx(expected)
    assert metrics.ndcg(["b", "a"], GRADED) == pytest.approx(1.0)


def test_ndcg_of_one_relevant_document_at_rank_three_is_one_half() -> None:
    assert metrics.ndcg(["x", "y", "a"], {"a": 1}) == pytest.approx(0.5)


def test_ndcg_counts_a_repeated_document_once() -> None:
    assert metrics.ndcg(["a", "a"], {"a": 1, "b": 1}) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_a_query_with_no_result_scores_zero_and_still_counts_in_the_mean() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    scores = metrics.per_query({"q1": ["a"]}, qrels)
    assert scores["q2"] == {"MRR@10": 0.0, "Recall@10": 0.0, "nDCG@10": 0.0}
    assert metrics.mean(scores) == {"MRR@10": 0.5, "Recall@10": 0.5, "nDCG@10": 0.5}


def test_agrees_with_ir_measures_query_by_query() -> None:
    ir_measures = pytest.importorskip("ir_measures")
    rng = random.Random(5)
    docs = [f"d{i}" for i in range(30)]
    qrels = {}
    for q in range(60):
        judged = {d: rng.choice([0, 1, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 8))}
        judged[rng.choice(docs)] = rng.randint(1, 3)  # at least one relevant document
        qrels[f"q{q}"] = judged
    run = {qid: rng.sample(docs, rng.randint(1, 15)) for qid in qrels}
    ours = metrics.per_query(run, qrels)
    names = {"RR@10": "MRR@10", "R@10": "Recall@10", "nDCG@10": "nDCG@10"}
    judged_rows = [ir_measures.Qrel(q, d, g) for q, ds in qrels.items() for d, g in ds.items()]
    scored = [ir_measures.ScoredDoc(q, d, float(len(ds) - i))
              for q, ds in run.items() for i, d in enumerate(ds)]
    checked = 0
    for metric in ir_measures.iter_calc([ir_measures.parse_measure(m) for m in names],
                                        judged_rows, scored):
        name = names[str(metric.measure)]
        assert ours[metric.query_id][name] == pytest.approx(metric.value), (metric, name)
        checked += 1
    assert checked == 3 * len(qrels)
