"""The faster phrase matcher and scorer give Whoosh's own results, on several segments."""

import random

import pytest
from whoosh import index as whoosh_index
from whoosh.query import Phrase
from whoosh.scoring import BM25F

from portal.search.analysis import query_tokens
from portal.search.index import make_schema
from portal.search.matching import CachedLengthBM25F, NgramPhrase

WORDS = ["垃圾", "分类", "物业", "服务费", "第十二条", "罚款", "业主", "大会", "PM2.5", "12345"]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    rng = random.Random(3)
    path = tmp_path_factory.mktemp("matching")
    ix = whoosh_index.create_in(str(path), make_schema())
    number = 0
    for _ in range(3):  # three segments, and a deletion in the first
        writer = ix.writer()
        for _ in range(150):
            number += 1
            body = "，".join(
                "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) for _ in range(6)
            )
            writer.add_document(id=str(number), body=body, quote=rng.choice(["", "垃圾分类"]))
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("id", "7")
    writer.commit(merge=False)
    return ix


PHRASES = [
    "垃圾分类",
    "物业服务费",
    "业主大会",
    "分类垃圾",
    "费罚款",
    "第十二条罚款",
    "垃圾垃圾垃圾",
]


@pytest.mark.parametrize("word", PHRASES)
def test_ngram_phrase_matches_and_scores_like_phrase(ix, word):
    tokens = query_tokens(word)
    assert len(tokens) >= 2
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 3
        expected = searcher.search(Phrase("body", tokens), limit=None)
        found = searcher.search(NgramPhrase("body", tokens), limit=None)
        assert [(hit.docnum, hit.score) for hit in found] == [
            (hit.docnum, hit.score) for hit in expected
        ]
        assert len(expected) > 0 or word in ("费罚款",)


def test_a_phrase_with_an_unknown_token_matches_nothing(ix):
    with ix.searcher() as searcher:
        assert len(searcher.search(NgramPhrase("body", ["垃圾", "不在"]), limit=None)) == 0
        assert len(searcher.search(NgramPhrase("nosuchfield", ["a", "b"]), limit=None)) == 0


@pytest.mark.parametrize("word", ["垃圾", "物业", "分类", "12345"])
def test_cached_lengths_give_the_same_scores(ix, word):
    with (
        ix.searcher(weighting=BM25F()) as plain,
        ix.searcher(weighting=CachedLengthBM25F()) as cached,
    ):
        from portal.search.query import text_query

        query = text_query(word, exact=True)
        expected = [(hit.docnum, hit.score) for hit in plain.search(query, limit=None)]
        assert expected
        assert [(hit.docnum, hit.score) for hit in cached.search(query, limit=None)] == expected
