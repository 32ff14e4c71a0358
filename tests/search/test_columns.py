"""Facets and filtered browsing from the cached columns agree with Whoosh and with the stored
documents, across segments, deletions, updates and merges."""

import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from whoosh import index as whoosh_index

from portal.search.index import make_schema
from portal.search.matching import CachedLengthBM25F
from portal.search.query import (
    FACET_FIELDS,
    SORTS,
    SearchParams,
    _columns,
    _facets,
    _matches,
    run_search,
)
from tests.search.whoosh_reference import whoosh_order

UTC = ZoneInfo("UTC")


def _doc(rng: random.Random, number: int) -> dict:
    doc = {
        "id": str(number),
        "body": rng.choice(["垃圾分类", "物业费", "电梯", "停车"]) + f"第{number}号意见",
        "quote": "",
        "draft": str(rng.randint(1, 3)),
        "article": rng.choice([0, 1, 2, 12]),
        "chapter": rng.choice([0, 1, 2]),
        "categories": ",".join(map(str, rng.sample([1, 2, 5], rng.randint(0, 2)))),
        "stance": rng.choice(["support", "oppose", "amend"]),
        "identity": rng.choice(["resident", "expert", "none"]),
        "channel": rng.choice(["online", "liaison"]),
        "decision": rng.choice(["none", "adopted"]),
        "status": "received",
        # Few distinct times: ties must be ordered as Whoosh orders them.
        "created_at": datetime(2026, 3, 1) + timedelta(hours=rng.randint(0, 5) * 12),
        "raised_by": 1,
    }
    if doc["channel"] == "liaison":
        doc["liaison_point"] = rng.choice(["P-1", "P-2"])
        doc["district"] = rng.choice(["西湖区", "上城区"])
    return doc


@pytest.fixture
def ix(tmp_path):
    """Four segments with updates and deletions, then a merge of the small ones."""
    rng = random.Random(11)
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    number = 0
    for round_ in range(4):
        writer = ix.writer()
        for _ in range(40):
            number += 1
            writer.add_document(**_doc(rng, number))
        if round_:
            for old in rng.sample(range(1, number - 40), 8):
                writer.update_document(**_doc(rng, old))
            writer.delete_by_term("id", str(rng.randint(1, number)))
        writer.commit(merge=False)
    return ix


def _expected_facets(searcher, docnums) -> dict:
    counts = {name: Counter() for name in FACET_FIELDS}
    for docnum in docnums:
        stored = searcher.stored_fields(docnum)
        for name in FACET_FIELDS:
            value = stored.get(name)
            if name == "categories":
                counts[name].update(int(c) for c in value.split(",") if c)
            elif value not in (None, ""):
                counts[name][int(value) if name == "draft" else value] += 1
    return {name: dict(counter) for name, counter in counts.items()}


PARAMS = [
    SearchParams(),
    SearchParams(draft_id=2),
    SearchParams(draft_id=99),
    SearchParams(article=12, stance="oppose"),
    SearchParams(chapter=0, identity="none"),
    SearchParams(category_ids=[1, 5]),
    SearchParams(category_ids=[7]),
    SearchParams(channel="liaison", liaison_point="P-2", district="西湖区"),
    SearchParams(decision="adopted", date_from=date(2026, 3, 2)),
    SearchParams(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2)),
]


def _check(searcher):
    for params in PARAMS:
        for sort in SORTS:
            params.sort = sort
            expected_order = whoosh_order(searcher, params, UTC)
            assert list(_matches(searcher, params, UTC)[0]) == expected_order, (params, sort)
            expected = _expected_facets(searcher, expected_order)
            facets = _facets(searcher, expected_order)
            assert {name: dict(items) for name, items in facets.items()} == expected
            page = run_search(searcher, params, per_page=7, tz=UTC)
            ids = [int(searcher.stored_fields(d)["id"]) for d in expected_order[:7]]
            assert (page.total, page.ids) == (len(expected_order), ids)


def test_text_queries_with_filters_and_sorts_agree_with_whoosh(ix):
    with ix.searcher(weighting=CachedLengthBM25F()) as searcher:
        for q in ("垃圾分类", "意见", "物业费 OR 停车"):
            for params in PARAMS:
                for sort in SORTS:
                    params = replace(params, q=q, sort=sort)
                    expected_order = whoosh_order(searcher, params, UTC)
                    for page in (1, 3):
                        result = run_search(searcher, params, page=page, per_page=4, tz=UTC)
                        expected = [
                            int(searcher.stored_fields(d)["id"])
                            for d in expected_order[(page - 1) * 4 : page * 4]
                        ]
                        assert (result.total, result.ids) == (len(expected_order), expected), (
                            q,
                            params,
                        )
                    facets = {name: dict(items) for name, items in result.facets.items()}
                    assert facets == _expected_facets(searcher, expected_order)


def test_browsing_and_facets_agree_with_whoosh_over_segments_and_deletions(ix):
    with ix.searcher(weighting=CachedLengthBM25F()) as searcher:
        assert len(searcher.reader().leaf_readers()) == 4
        assert searcher.reader().has_deletions()
        _check(searcher)


def test_after_a_merge_the_columns_follow_the_new_segments(ix):
    with ix.searcher() as before:
        _columns(before)  # the old segments' columns are cached
    writer = ix.writer()
    writer.update_document(**_doc(random.Random(1), 3))
    writer.commit(optimize=True)  # every segment merged into one
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 1
        _check(searcher)
        columns = _columns(searcher)
        assert sorted(columns.ids[columns.live].tolist()) == sorted(
            int(fields["id"]) for fields in searcher.all_stored_fields()
        )


def test_text_queries_count_facets_over_the_whole_result(ix):
    with ix.searcher() as searcher:
        result = run_search(searcher, SearchParams(q="垃圾分类"), per_page=3)
        matches = whoosh_order(searcher, SearchParams(q="垃圾分类"), UTC)
        expected = _expected_facets(searcher, matches)
        assert result.total == len(matches) > 3
        assert {name: dict(items) for name, items in result.facets.items()} == expected
