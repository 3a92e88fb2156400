"""How the dashboard writes money and names."""

from __future__ import annotations

import pytest

from server.dashboard.formatting import humane, money


@pytest.mark.parametrize(("value", "shown"), [
    (120_000, "$120,000"), (999_999.4, "$999,999"), (1_200_000, "$1.2M"), (1_250_000, "$1.2M"),
    (3_400_000_000, "$3.4B"), (0, "$0"), (-5_000, "-$5,000"), (None, "—"), ("12k", "—"), (True, "—"),
])
def test_money_is_whole_dollars_below_a_million_then_millions_and_billions(value: object, shown: str) -> None:
    assert money(value) == shown


@pytest.mark.parametrize(("name", "shown"), [
    ("login_frequency", "Login frequency"), ("product_usage", "Product usage"), ("nps", "NPS"),
    ("mid_market", "Mid market"), ("engagement", "Engagement"), ("", ""), (None, ""),
])
def test_names_in_the_model_read_as_words(name: str | None, shown: str) -> None:
    assert humane(name) == shown
