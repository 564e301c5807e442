"""Ranking quality on the judged set, printed as nDCG@10 so changes can be compared."""

from search.index import SearchIndex
from tests.search.relevance_set import NOW, TOPICS, corpus, mean_ndcg


def test_the_judged_set_has_forty_queries_and_ranks_well(capsys):
    index = SearchIndex.in_memory()
    items, _judgments = corpus()
    index.rebuild(items)
    mean, per_query = mean_ndcg(lambda q: [hit.id for hit in index.search(q, {1}, limit=10, now=NOW).hits])
    with capsys.disabled():
        print(f"\nnDCG@10 over {len(per_query)} judged queries: {mean:.3f}")
        for query, score in sorted(per_query.items(), key=lambda pair: pair[1])[:5]:
            print(f"  weakest: {query!r} {score:.3f}")
    assert len(TOPICS) >= 40
    assert mean >= 0.8
