"""The fast indexing path writes what Whoosh's own path writes, and rebuilds in processes."""

import hashlib
import os
import random
from datetime import datetime

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.formats import Positions
from whoosh.writing import SegmentWriter

from portal.search.analysis import CJKNgramTokenizer, normalize, normalize_with_offsets
from portal.search.index import apply_pending, make_schema, rebuild
from portal.search.query import SearchParams, search
from portal.search.writer import (
    POSITION_DTYPE,
    FastSegmentWriter,
    NgramPositions,
    build_segments,
    decode_positions,
    encode_positions,
)

TEXTS = [
    "建议加快推进垃圾分类，小区垃圾桶设置要合理。",
    "物业服务费的收费标准应当公开。物业费每年上涨，业主负担很重。",
    "今天ＰＭ２．５浓度又超标了，请拨打１２３４５热线。",
    "建议修改第12条，罚款太高；第 3 条第二款与第十二条冲突。",
    "第一百一十二条不存在，第十条和第五十二条另有规定。",
    "Elevator 加装电梯应当征得业主同意。COVID-19 期间的 A 区、3楼。",
    "单字：罚。款。山 水",
    "Ｅｌｅｖａｔｏｒ ΣΑΣ straße İstanbul ㈱ ﬁ ½ 〇〇七",
    "",
    "   ，。！",
    "第",
    "第１２３条第四款第五项",
    "ひらがなカタカナ한국어漢字",
    "垃圾" * 300,
]


def _random_texts(n: int = 300) -> list[str]:
    """Random mixes of the characters normalisation and the tokenizer treat differently."""
    rng = random.Random(5)
    alphabet = (
        "垃圾分类物业费第条款章十二一百零〇 \t，。；“”"
        "abcXYZ019０１９ＡＢｃ.-'+ΣσİßＰＭ２．５㈱ﬁ½ひカ한"
    )
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(n)]


@pytest.mark.parametrize("text", TEXTS + _random_texts())
def test_fast_normalize_equals_the_character_by_character_one(text):
    assert normalize(text) == normalize_with_offsets(text)[0]


@pytest.mark.parametrize("text", TEXTS + _random_texts())
@pytest.mark.parametrize("unigrams", [True, False])
def test_term_positions_equal_the_tokens(text, unigrams):
    tokenizer = CJKNgramTokenizer(unigrams=unigrams)
    expected: dict[str, list[int]] = {}
    for token in tokenizer(text, positions=True):
        expected.setdefault(token.text, []).append(token.pos)
    assert tokenizer.term_positions(text) == expected


class _TokenByToken(NgramPositions):
    """NgramPositions filled the way Whoosh fills any format: a Token object per n-gram."""

    word_values = Positions.word_values


def test_ngram_positions_yields_what_positions_yields():
    analyzer = CJKNgramTokenizer()
    fast = NgramPositions(field_boost=2.0)
    plain = Positions(field_boost=2.0)
    slow = _TokenByToken(field_boost=2.0)
    for text in TEXTS:
        decoded = sorted(
            (word, freq, weight, fast.decode_positions(value))
            for word, freq, weight, value in fast.word_values(text, analyzer)
        )
        expected = sorted(
            (word, freq, weight, plain.decode_positions(value))
            for word, freq, weight, value in plain.word_values(text, analyzer)
        )
        assert decoded == expected
        assert sorted(fast.word_values(text, analyzer)) == sorted(slow.word_values(text, analyzer))
        for _, freq, weight, value in fast.word_values(text, analyzer):
            assert fast.decode_frequency(value) == freq
            assert fast.decode_weight(value) == weight
            assert len(value) == 4 * freq  # uint32 each, no count, no pickle


def test_positions_decode_in_bulk_as_one_by_one():
    values = [encode_positions(p) for p in ([0], [3, 70000], [1, 2, 5, 4096, 4097], [2**32 - 1])]
    flat = np.frombuffer(b"".join(values), dtype=POSITION_DTYPE).tolist()
    assert flat == [p for value in values for p in decode_positions(value)]
    assert flat == [0, 3, 70000, 1, 2, 5, 4096, 4097, 2**32 - 1]


def _documents(n: int = 120) -> list[dict]:
    rng = random.Random(7)
    texts = TEXTS + _random_texts(40)
    return [
        {
            "id": str(i),
            "body": rng.choice(texts) + rng.choice(texts),
            "quote": rng.choice(["", *texts]),
            "draft": str(rng.randint(1, 3)),
            "article": rng.randint(0, 12),
            "chapter": rng.randint(0, 2),
            "categories": ",".join(map(str, rng.sample(range(1, 6), rng.randint(0, 2)))),
            "stance": rng.choice(["support", "oppose"]),
            "created_at": datetime(2026, 1, 1 + i % 28),
            "raised_by": 1,
            **({"liaison_point": "P-1", "district": "西湖区"} if i % 3 == 0 else {}),
        }
        for i in range(1, n + 1)
    ]


def _segment_files(path) -> dict[str, str]:
    """Digest of each file of the one segment, by its extension (segment names are random)."""
    digests = {}
    for name in os.listdir(path):
        if name.startswith("MAIN_") and not name.endswith("LOCK"):
            with open(os.path.join(path, name), "rb") as fh:
                digests[name.split(".", 1)[1]] = hashlib.sha256(fh.read()).hexdigest()
    return digests


def test_the_fast_writer_writes_the_same_bytes_as_whoosh(tmp_path):
    """Whoosh's SegmentWriter with Token-by-Token analysis against FastSegmentWriter with the
    analyzer's term positions: the same files."""
    docs = _documents()
    old_schema = make_schema()
    for name in ("body", "quote"):
        old_schema[name].format = _TokenByToken(field_boost=1.0)
    built = {}
    for label, schema, writer_class in (
        ("old", old_schema, SegmentWriter),
        ("fast", make_schema(), FastSegmentWriter),
    ):
        path = tmp_path / label
        path.mkdir()
        ix = whoosh_index.create_in(str(path), schema)
        # A small pool limit: the postings go through sorted runs on disk as well.
        writer = writer_class(ix, compound=False, limitmb=1)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
        built[label] = _segment_files(path)
    assert set(built["old"]) >= {"pst", "trm", "_stored.col", "_body_len.col"}
    assert built["fast"] == built["old"]


def test_a_failed_document_leaves_no_postings_behind(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    writer = FastSegmentWriter(ix)
    writer.add_document(id="1", body="垃圾分类", quote="")
    with pytest.raises(ValueError):
        # raised_by comes after body and quote: their postings are in the pool by then.
        writer.add_document(id="2", body="物业费", quote="物业", raised_by="not a number")
    writer.add_document(id="3", body="物业费", quote="")
    writer.commit()
    with ix.searcher() as searcher:
        assert searcher.doc_count() == 2
        assert [hit["id"] for hit in searcher.documents(body="物业")] == ["3"]
        assert [hit["id"] for hit in searcher.documents(quote="物业")] == []


@pytest.mark.parametrize("procs", [1, 2, 3])
def test_build_segments_in_processes_writes_every_document_once(tmp_path, procs, monkeypatch):
    from portal.search import writer as writer_module

    monkeypatch.setattr(writer_module, "_PORTION", 7)  # many portions for few documents
    docs = _documents(200)
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    old = ix.writer()
    old.add_document(id="old", body="旧的文档", quote="")
    old.commit()
    batches = [docs[i : i + 30] for i in range(0, len(docs), 30)]
    assert build_segments(ix, iter(batches), procs=procs, limitmb=1) == len(docs)
    with ix.searcher() as searcher:
        assert searcher.doc_count() == len(docs)  # the old document is gone (CLEAR)
        # A pool of 1 MB holds a few dozen of these documents: a segment each time it fills.
        assert len(list(searcher.reader().leaf_readers())) > procs
        ids = sorted(int(fields["id"]) for fields in searcher.all_stored_fields())
        assert ids == list(range(1, len(docs) + 1))
        expected = {d["id"] for d in docs if "垃圾分类" in d["body"]}
        found = {hit["id"] for hit in searcher.search(_phrase("body", "垃圾分类"), limit=None)}
        assert found == expected
    assert not os.path.exists(tmp_path / "MAIN.tmp") or not os.listdir(tmp_path / "MAIN.tmp")


def _phrase(fieldname, word):
    from portal.search.query import text_query

    return text_query(word, exact=True, fields=[fieldname])


def test_a_failing_helper_fails_the_build_and_keeps_the_old_index(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    old = ix.writer()
    old.add_document(id="old", body="旧的文档", quote="")
    old.commit()
    batches = [[{"id": "1", "body": "好"}], [{"id": "2", "no_such_field": "x"}]]
    with pytest.raises(Exception, match="no_such_field"):
        build_segments(ix, iter(batches * 5), procs=2)
    with ix.searcher() as searcher:
        assert [fields["id"] for fields in searcher.all_stored_fields()] == ["old"]
    writer = ix.writer()  # the lock was released
    writer.cancel()


def test_rebuild_in_two_processes_equals_the_incremental_index(app, add_comment, monkeypatch):
    comments = [
        add_comment(f"第{n}条：垃圾分类和物业费的意见，编号{n}。", target=f"article-{1 + n % 12}")
        for n in range(1, 41)
    ]
    apply_pending()

    def everything():
        return {
            q: sorted(search(SearchParams(q=q), per_page=100).ids)
            for q in ("垃圾分类", "物业费", "编号1", "第3条", "")
        }

    incremental = everything()
    from portal.search import writer as writer_module

    monkeypatch.setattr(writer_module, "_PORTION", 5)
    app.config["SEARCH_REBUILD_PROCS"] = 2
    assert rebuild(batch_size=8) == len(comments)
    assert everything() == incremental
    assert len(incremental[""]) == len(comments)


def _segment_sizes(ix) -> list[int]:
    return sorted(segment.doc_count() for segment in ix._segments())


def test_incremental_merges_touch_only_small_segments(tmp_path):
    """The merge policy of apply_pending(): tiny segments are merged once there are enough of
    them; a large segment (a rebuild's) is never rewritten by an ordinary commit."""
    from portal.search.index import merge_policy

    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    docs = _documents(60)
    for start in (0, 20):  # two "rebuild" segments of 20
        writer = FastSegmentWriter(ix)
        for doc in docs[start : start + 20]:
            writer.add_document(**doc)
        writer.commit(merge=False)
    policy = merge_policy(5, 3)
    sizes = []
    for doc in docs[40:47]:  # one opinion per commit, as requests write them
        writer = FastSegmentWriter(ix)
        writer.add_document(**doc)
        writer.commit(mergetype=policy)
        sizes.append(_segment_sizes(ix))
    # Once three small segments exist, they go into the new one with its opinion; the merged
    # segment (4) is still small and joins the next merge; the 20s are never rewritten.
    assert sizes == [
        [1, 20, 20],
        [1, 1, 20, 20],
        [1, 1, 1, 20, 20],
        [4, 20, 20],
        [1, 4, 20, 20],
        [1, 1, 4, 20, 20],
        [7, 20, 20],
    ]
    with ix.searcher() as searcher:
        assert sorted(int(f["id"]) for f in searcher.all_stored_fields()) == list(range(1, 48))
