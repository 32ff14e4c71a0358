"""Tracking codes: enough randomness, readable, forgiving when typed."""

import math

import pytest

from portal.comments import tracking


def test_codes_are_grouped_and_carry_80_bits():
    code = tracking.new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    raw = "".join(groups)
    assert all(ch in tracking.ALPHABET for ch in raw)
    assert len(raw) * math.log2(len(tracking.ALPHABET)) >= 80


def test_no_confusable_letters():
    assert not set("OIL") & set(tracking.ALPHABET)


def test_codes_differ():
    assert len({tracking.new_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize(
    "typed",
    ["7kq2-m9xd-3fta-wb8c", " 7KQ2 M9XD 3FTA WB8C ", "7KQ2M9XD3FTAWB8C", "7KQ2-M9XD-3FTA-WB8C"],
)
def test_typed_forms_normalise(typed):
    assert tracking.normalize(typed) == "7KQ2-M9XD-3FTA-WB8C"


def test_look_alikes_are_forgiven():
    assert tracking.normalize("OI1L-0000-0000-0000") == "0111-0000-0000-0000"


@pytest.mark.parametrize(
    "typed", ["", None, "abc", "7KQ2-M9XD-3FTA-WB8", "7KQ2-M9XD-3FTA-WB8CX", "7KQ2-M9XD-3FTA-WB8U"]
)
def test_malformed_codes(typed):
    assert tracking.normalize(typed) is None
