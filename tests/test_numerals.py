"""Tests for Chinese numeral parsing, width normalisation and article reference detection."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.numerals import (
    ArticleRef,
    chinese_to_int,
    find_article_refs,
    int_to_chinese,
    normalize_article_refs,
    normalize_width,
    parse_int,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("零", 0),
        ("一", 1),
        ("两", 2),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("十二", 12),
        ("一十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("九十九", 99),
        ("一百", 100),
        ("一百零三", 103),
        ("一百一十", 110),
        ("一百二十五", 125),
        ("两百", 200),
        ("两千", 2000),
        ("一千", 1000),
        ("一千零一", 1001),
        ("一千零一十", 1010),
        ("一千零五十", 1050),
        ("三千零五", 3005),
        ("九千九百九十九", 9999),
        ("二〇二四", 2024),
        ("12", 12),
        ("０", 0),
        ("１２", 12),
        ("１0５", 105),
        (" 十二\u3000", 12),
    ],
)
def test_chinese_to_int(text: str, expected: int) -> None:
    assert chinese_to_int(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "百",
        "千",
        "十十",
        "一百二",  # colloquial 120 or 102: ambiguous
        "一千二十",  # missing 零
        "一百零",
        "零十",
        "一百零零三",
        "一千零五百",
        "一二十",
        "12条",
        "-3",
        "1.5",
        "壹",
        "٣",  # Arabic-Indic digit: never used in Chinese article numbers
        "十 二",
    ],
)
def test_chinese_to_int_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError):
        chinese_to_int(text)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "一"),
        (10, "十"),
        (12, "十二"),
        (19, "十九"),
        (20, "二十"),
        (21, "二十一"),
        (100, "一百"),
        (103, "一百零三"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (200, "二百"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1100, "一千一百"),
        (9999, "九千九百九十九"),
    ],
)
def test_int_to_chinese(number: int, expected: str) -> None:
    assert int_to_chinese(number) == expected


def test_int_to_chinese_round_trip() -> None:
    for number in range(1, 1201):
        assert chinese_to_int(int_to_chinese(number)) == number


@pytest.mark.parametrize("number", [0, -1, 10000])
def test_int_to_chinese_out_of_range(number: int) -> None:
    with pytest.raises(ValueError):
        int_to_chinese(number)


def test_normalize_width() -> None:
    assert normalize_width("ＡＢＣ１２３\u3000第１２条") == "ABC123 第12条"
    # Documented trade-off: punctuation is folded too, which is why this is search-only.
    assert normalize_width("（一）") == "(一)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第12条", "第十二条"),
        ("第１２条", "第十二条"),
        ("第 12 条", "第十二条"),
        ("第3章", "第三章"),
        ("第2款", "第二款"),
        ("第3节", "第三节"),
        ("第4项", "第四项"),
        ("第103条", "第一百零三条"),
        ("依照第10条第2款规定", "依照第十条第二款规定"),
        ("第十二条", "第十二条"),
        ("第0条", "第0条"),
        ("第2024年", "第2024年"),
        ("共12条", "共12条"),
    ],
)
def test_normalize_article_refs(text: str, expected: str) -> None:
    assert normalize_article_refs(text) == expected


def _refs(text: str) -> list[tuple[int | None, int, int | None, int | None, str]]:
    return [
        (ref.chapter, ref.article, ref.paragraph, ref.item, text[ref.start : ref.end])
        for ref in find_article_refs(text)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("建议第十二条增加……", [(None, 12, None, None, "第十二条")]),
        ("第12条第二款", [(None, 12, 2, None, "第12条第二款")]),
        ("第三章第十二条", [(3, 12, None, None, "第三章第十二条")]),
        ("对第一百零三条的修改意见", [(None, 103, None, None, "第一百零三条")]),
        ("第 12 条", [(None, 12, None, None, "第 12 条")]),
        ("第１２条", [(None, 12, None, None, "第１２条")]),
        ("第十二条第二款第三项", [(None, 12, 2, 3, "第十二条第二款第三项")]),
        ("违反第十七条第一项规定", [(None, 17, None, 1, "第十七条第一项")]),
        (
            "第十二条与第十五条第二款存在冲突",
            [(None, 12, None, None, "第十二条"), (None, 15, 2, None, "第十五条第二款")],
        ),
        ("本条例自公布之日起施行。", []),
        ("第三章整体结构需要调整", []),
        ("第0条", []),
        ("第十十条", []),
    ],
)
def test_find_article_refs(
    text: str, expected: list[tuple[int | None, int, int | None, int | None, str]]
) -> None:
    assert _refs(text) == expected


def test_find_article_refs_offsets() -> None:
    text = "建议第十二条增加"
    assert find_article_refs(text) == [ArticleRef(None, 12, None, 2, 6)]


def test_find_article_refs_recovers_after_invalid_numeral() -> None:
    assert _refs("第十十条第五条") == [(None, 5, None, None, "第五条")]


# --- parse_int: numbers from query strings and forms ---------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("１２", 12),  # full-width
        ("٣", 3),  # Arabic-Indic: a decimal digit in Unicode
        ("0", 0),
        ("2147483647", 2**31 - 1),
        (7, 7),
    ],
)
def test_parse_int_reads_decimal_digits_of_any_script(value, expected) -> None:
    assert parse_int(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "²",  # str.isdigit() is true, int() fails
        "①",
        "十二",  # only with chinese=True
        "-1",
        "+1",
        "1 2",
        "1.5",
        "2147483648",  # beyond the INTEGER columns
        "99999999999999999999",
        "9" * 5000,
        "",
        None,
        True,
        "\x00",
        ["1"],
    ],
)
def test_parse_int_refuses_everything_else(value) -> None:
    assert parse_int(value) is None
    assert parse_int(value, 5) == 5


def test_parse_int_with_chinese_numerals_and_bounds() -> None:
    assert parse_int("十二", chinese=True) == 12
    assert parse_int("一百零三", chinese=True) == 103
    assert parse_int("一百二", chinese=True) is None  # ambiguous, as chinese_to_int says
    assert parse_int("0", minimum=1) is None
    assert parse_int("100001", maximum=100_000) is None
    assert parse_int("²", 1, minimum=1) == 1


@given(st.text(max_size=30))
def test_parse_int_never_raises(value: str) -> None:
    result = parse_int(value, chinese=True)
    assert result is None or 0 <= result <= 2**31 - 1
