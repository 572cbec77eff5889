"""search/spelling.py: the bounded edit distance agrees with Whoosh's Damerau-Levenshtein."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from whoosh.support.levenshtein import damerau_levenshtein

from search.spelling import within_distance

WORDS = st.text(alphabet="abcdé", max_size=9)


@settings(derandomize=True, max_examples=500, deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.too_slow])
@given(WORDS, WORDS, st.integers(min_value=0, max_value=3))
def test_within_distance_is_whooshs_distance_bounded(first: str, second: str, limit: int) -> None:
    assert within_distance(first, second, limit) == (damerau_levenshtein(first, second) <= limit)


def test_a_transposition_is_one_edit() -> None:
    assert within_distance("marakech", "marrakech", 1)
    assert within_distance("eletcions", "eletions", 1)
    assert within_distance("elections", "eletcions", 1)
    assert not within_distance("elections", "electrons", 0)
