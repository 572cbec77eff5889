"""Related articles: a query made of an article's most distinctive stems."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from whoosh import query as wq
from whoosh.searching import Searcher

from .analysis import STEM_SEPARATOR, index_terms
from .querybuild import MatchPlan
from .ranking import reliable

KEY_TERMS = 12
MIN_DOC_FREQUENCY = 2


def key_terms_query(
    searcher: Searcher, fields: dict[str, Any]
) -> tuple[wq.Query, MatchPlan] | None:
    """An OR query of the article's key terms weighted by tf-idf; None when it has none.

    Stemmed forms are used when the article's language has a stemmer, folded
    forms otherwise; a term found in no other article cannot relate it to anything.
    """
    lang = fields.get("lang", "")
    text = f"{fields.get('title', '')}\n{fields.get('title', '')}\n{fields.get('body', '')}"
    postings = index_terms(text, lang)
    stemmed = any(STEM_SEPARATOR in term for term in postings)
    counts = Counter(
        {
            term: len(positions)
            for term, positions in postings.items()
            if (STEM_SEPARATOR in term) == stemmed
            and "\x1f" not in term
            and not term.split(STEM_SEPARATOR)[-1].isdigit()
        }
    )
    total = max(1, searcher.doc_count())
    weights: dict[str, float] = {}
    for term, count in counts.items():
        frequency = searcher.doc_frequency("body", term)
        if frequency >= MIN_DOC_FREQUENCY:
            weights[term] = (1 + math.log(count)) * math.log(total / frequency)
    best = sorted(weights, key=lambda term: -weights[term])[:KEY_TERMS]
    if not best:
        return None
    top = weights[best[0]] or 1.0
    query = wq.Or(
        [wq.Term("body", term, boost=weights[term] / top) for term in best]
        + [wq.Term("title", term, boost=weights[term] / top) for term in best]
    )
    return reliable(query), MatchPlan(forms=set(best))
