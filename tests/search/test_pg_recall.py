"""The Chinese recall cases of test_analysis.py, through the database and get_backend():
each opinion committed as a real comment, searched with the configured engine (both engines on
PostgreSQL, see tests/conftest.py), the same assertions."""

from __future__ import annotations

import pytest

from portal.search import SearchParams, get_backend
from tests.search.test_analysis import (  # noqa: F401 (collected here with this module's find)
    TEXTS,
    test_article_references_in_both_spellings,
    test_colloquial_fee_finds_the_formal_wording,
    test_full_and_half_width_latin_and_digits,
    test_part_of_a_word_finds_the_word,
    test_single_character_finds_every_occurrence,
    test_words_without_spaces_are_anded,
)


@pytest.fixture
def find(app, add_comment, search_backend):
    """find(q) -> the TEXTS numbers that q matches, through the backend."""
    numbers = {add_comment(body).id: number for number, body in TEXTS.items()}
    get_backend().apply_pending()

    def find(q: str) -> set[int]:
        result = get_backend().search(SearchParams(q=q), per_page=100)
        assert result.total == len(result.ids)
        return {numbers[comment_id] for comment_id in result.ids}

    return find
