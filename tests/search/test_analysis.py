"""The Chinese analyzer and text queries, on a small index without the database."""

from datetime import datetime

import pytest
from whoosh import index as whoosh_index

from portal.search.analysis import chinese_analyzer, normalize, query_tokens
from portal.search.index import make_schema
from portal.search.query import SearchParams, run_search

TEXTS = {
    1: "建议加快推进垃圾分类，小区垃圾桶设置要合理。",
    2: "物业服务费的收费标准应当公开。",
    3: "物业费每年上涨，业主负担很重。",
    4: "今天ＰＭ２．５浓度又超标了。",
    5: "空气质量差时 PM2.5 数据应及时公布，可以拨打12345 热线反映。",
    6: "建议修改第12条，罚款太高。",
    7: "第十二条第二款与上位法不一致。",
    8: "第一百一十二条不存在，第十条和第五十二条另有规定。",
    9: "物业管理区域内停车位的分配办法。",
    10: "Elevator 加装电梯应当征得业主同意。",
}


@pytest.fixture
def find(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    writer = ix.writer()
    for number, body in TEXTS.items():
        writer.add_document(
            id=str(number), body=body, quote="", draft="1", created_at=datetime(2026, 1, number)
        )
    writer.commit()
    searcher = ix.searcher()

    def find(q: str) -> set[int]:
        result = run_search(searcher, SearchParams(q=q), per_page=100, facets=False)
        assert result.total == len(result.ids)
        return set(result.ids)

    yield find
    searcher.close()


def test_part_of_a_word_finds_the_word(find):
    assert find("分类") == {1}
    assert find("垃圾分类") == {1}


def test_colloquial_fee_finds_the_formal_wording(find):
    assert find("物业费") == {2, 3}
    assert find("物业服务费") == {2, 3}
    # Quoted: exactly these characters.
    assert find('"物业费"') == {3}
    assert find('"物业服务费"') == {2}
    # Not every opinion on 物业 mentions a fee.
    assert 9 not in find("物业费")


def test_full_and_half_width_latin_and_digits(find):
    assert find("PM2.5") == {4, 5}
    assert find("ＰＭ２．５") == {4, 5}
    assert find("pm2.5") == {4, 5}
    assert find("12345 热线") == {5}
    assert find("１２３４５热线") == {5}
    assert find("elevator") == {10}


def test_article_references_in_both_spellings(find):
    assert find("第12条") == {6, 7}
    assert find("第十二条") == {6, 7}
    assert find("第１２条") == {6, 7}
    # Neither 第十条 nor 第五十二条 nor 第一百一十二条 is 第十二条.
    assert 8 not in find("第十二条")
    assert find("第十条") == {8}
    assert find("第一百一十二条") == {8}
    # Not a whole reference: matched as text.
    assert find("十二条") == {6, 7, 8}
    assert find("第十二条第二款") == {7}


def test_single_character_finds_every_occurrence(find):
    assert find("罚") == {6}
    assert find("梯") == {10}


def test_words_without_spaces_are_anded(find):
    assert find("物业 停车位") == {9}
    assert find("物业停车位") == set()


def test_normalisation_is_shared_by_documents_and_queries():
    assert normalize("ＰＭ２．５，第１２条") == "pm2.5,第十二条"
    assert query_tokens("垃圾分类") == ["垃圾", "圾分", "分类"]
    assert query_tokens("罚") == ["罚"]
    assert query_tokens("PM2.5浓度") == ["pm2.5", "浓度"]


def test_offsets_point_into_the_original_text():
    text = "请看第１２条和ＰＭ２．５"
    tokens = [(t.text, text[t.startchar : t.endchar]) for t in chinese_analyzer()(text, chars=True)]
    assert ("pm2.5", "ＰＭ２．５") in tokens
    assert ("十二", "第１２条") in tokens
    assert ("请看", "请看") in tokens
    # An article reference is also one token, for an exact and cheap match.
    assert ("第十二条", "第１２条") in tokens


def test_unigrams_share_positions_with_bigrams():
    tokens = [(t.text, t.pos) for t in chinese_analyzer()("垃圾分类PM2.5", positions=True)]
    assert tokens == [
        ("垃", 0),
        ("垃圾", 0),
        ("圾", 1),
        ("圾分", 1),
        ("分", 2),
        ("分类", 2),
        ("类", 3),
        ("pm2.5", 3),
    ]


def test_jieba_tokenizer_for_the_benchmark_keeps_what_chineseanalyzer_drops():
    from portal.search.analysis import JiebaTokenizer

    tokens = [t.text for t in JiebaTokenizer()("交纳物业服务费的第12条，PM2.5 和 的")]
    assert "物业" in tokens and "服务费" in tokens
    assert "第十二条" in tokens
    assert "pm2.5" in tokens
    assert "的" in tokens  # stop words stay: the query side keeps them too


def test_snippets_mark_whole_matches_and_escape_the_rest():
    from markupsafe import Markup

    from portal.search.query import snippet

    text = "前言" * 40 + "<b>建议</b>第１２条的垃圾分类要求 & 处罚。" + "后记" * 60
    html = snippet(text, ["第十二条", "垃圾分类"])
    assert isinstance(html, Markup)
    assert "<mark>第１２条</mark>的<mark>垃圾分类</mark>" in html
    assert "&lt;b&gt;建议&lt;/b&gt;" in html and "&amp;" in html
    assert "<b>" not in html
    assert html.startswith("…") and html.endswith("…")
    # Adjacent needles merge into one mark; no match: the escaped start of the text.
    assert "<mark>12345热线</mark>" in snippet("请拨打12345热线", ["12345", "热线"])
    assert snippet("<i>x</i>", ["没有"]) == Markup("&lt;i&gt;x&lt;/i&gt;")


def test_snippets_mark_only_words_that_are_not_negated(tmp_path):
    from portal.search.query import _parse

    _, needles = _parse('垃圾分类 NOT 物业 -"电梯" (第12条 OR 罚)')
    assert needles == ["垃圾分类", "第十二条", "罚"]
    _, needles = _parse("物业费")
    assert set(needles) == {"物业费", "物业服务费", "物业管理费"}
