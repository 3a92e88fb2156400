"""The standard health model, built by hand as the IR the language compiles it to (health-model.md)."""

from __future__ import annotations

from typing import Any

from dsl import ir
from engine.semantics.scores import band_for, compute, score_changed, score_data


def field(name: str) -> ir.FieldRef:
    return ir.FieldRef(path=(name,))


def cmp(op: str, name: str, value: Any, type_: str = "number") -> ir.Compare:
    return ir.Compare(op=op, left=field(name), right=ir.Literal_(type=type_, value=value))


def both(*args: ir.Expr) -> ir.Logic:
    return ir.Logic(op="and", args=args)


def rule(points: float, when: ir.Expr | None = None) -> ir.PointRule:
    return ir.PointRule(points=points, when=when)


HEALTH = ir.ScoreModel(
    name="health",
    title="Account health",
    components=(
        ir.Component(
            name="product_usage",
            max_points=40,
            inputs=("dau_pct", "feature_adoption"),
            rules=(
                rule(
                    40,
                    both(cmp(">=", "dau_pct", 70, "percent"), cmp(">=", "feature_adoption", 60, "percent")),
                ),
                rule(
                    20,
                    both(cmp(">=", "dau_pct", 40, "percent"), cmp(">=", "feature_adoption", 30, "percent")),
                ),
                rule(0),
            ),
        ),
        ir.Component(
            name="engagement",
            max_points=25,
            inputs=("qbr_attended", "training_done", "responsive"),
            rules=(
                rule(25, both(field("qbr_attended"), field("training_done"), field("responsive"))),
                rule(
                    12,
                    ir.CountTrue(
                        op="exactly",
                        count=2,
                        args=(field("qbr_attended"), field("training_done"), field("responsive")),
                    ),
                ),
                rule(0),
            ),
        ),
        ir.Component(
            name="support_health",
            max_points=15,
            inputs=("ticket_trend", "csat"),
            rules=(
                rule(15, both(cmp("!=", "ticket_trend", "increasing", "enum"), cmp(">=", "csat", 4))),
                rule(7, cmp(">=", "csat", 3)),
                rule(0),
            ),
        ),
        ir.Component(
            name="relationship",
            max_points=15,
            inputs=("exec_sponsor", "champion", "nps"),
            rules=(
                rule(15, both(field("exec_sponsor"), field("champion"), cmp(">=", "nps", 9))),
                rule(7, both(field("champion"), cmp(">=", "nps", 7))),
                rule(0),
            ),
        ),
        ir.Component(
            name="financial",
            max_points=5,
            inputs=("payments_on_time", "expanded_last_12m"),
            rules=(
                rule(5, both(field("payments_on_time"), field("expanded_last_12m"))),
                rule(2, field("payments_on_time")),
                rule(0),
            ),
        ),
    ),
    bands=(
        ir.Band(name="green", low=80, high=100),
        ir.Band(name="yellow", low=50, high=79),
        ir.Band(name="red", low=0, high=49),
    ),
)

TECHCORP = {
    "dau_pct": 65,
    "feature_adoption": 55,
    "qbr_attended": True,
    "training_done": True,
    "responsive": True,
    "ticket_trend": "stable",
    "csat": 4.2,
    "exec_sponsor": False,
    "champion": True,
    "nps": 8,
    "payments_on_time": True,
    "expanded_last_12m": False,
}

GLOBEX = {
    "dau_pct": 20,
    "feature_adoption": 10,
    "qbr_attended": False,
    "training_done": False,
    "responsive": False,
    "ticket_trend": "increasing",
    "csat": 2,
    "exec_sponsor": False,
    "champion": False,
    "nps": 3,
    "payments_on_time": True,
    "expanded_last_12m": False,
}


def test_worked_example_techcorp_is_69_yellow() -> None:
    state = compute(HEALTH, TECHCORP)
    assert state.value == 69
    assert state.band == "yellow"
    assert state.breakdown == {
        "product_usage": 20,
        "engagement": 25,
        "support_health": 15,
        "relationship": 7,
        "financial": 2,
    }
    assert state.missing == []


def test_scenario_02_usage_rise_makes_techcorp_89_green() -> None:
    state = compute(HEALTH, {**TECHCORP, "dau_pct": 75, "feature_adoption": 65})
    assert (state.value, state.band) == (89, "green")
    assert state.breakdown["product_usage"] == 40


def test_scenario_03_globex_is_2_red() -> None:
    state = compute(HEALTH, GLOBEX)
    assert (state.value, state.band) == (2, "red")
    assert state.breakdown == {
        "product_usage": 0,
        "engagement": 0,
        "support_health": 0,
        "relationship": 0,
        "financial": 2,
    }


def test_exactly_two_of_three_gives_the_middle_rule() -> None:
    state = compute(HEALTH, {**TECHCORP, "responsive": False})
    assert state.breakdown["engagement"] == 12
    assert state.value == 56


def test_any_missing_input_leaves_the_account_unscored() -> None:
    fields = {key: value for key, value in TECHCORP.items() if key not in ("nps", "csat")}
    state = compute(HEALTH, fields)
    assert (state.value, state.band, state.breakdown) == (None, None, {})
    assert state.missing == ["csat", "nps"]
    assert compute(HEALTH, {**TECHCORP, "nps": None}).missing == ["nps"]


def test_a_rule_whose_condition_is_unknown_does_not_match() -> None:
    odd = ir.ScoreModel(
        name="odd",
        components=(
            ir.Component(
                name="c",
                max_points=10,
                inputs=("a",),
                rules=(
                    rule(10, cmp(">=", "b", 1)),  # reads a field the model does not list: unknown
                    rule(3),
                ),
            ),
        ),
        bands=(ir.Band(name="any", low=0, high=10),),
    )
    assert compute(odd, {"a": 1}).value == 3


def test_band_ranges_with_fractional_totals() -> None:
    assert band_for(HEALTH, 79.5) == "yellow"
    assert band_for(HEALTH, 80) == "green"
    assert band_for(HEALTH, 49) == "red"
    assert band_for(HEALTH, -1) is None


def test_first_scoring_and_band_moves_are_changes() -> None:
    yellow = compute(HEALTH, TECHCORP)
    unscored = compute(HEALTH, {})
    assert score_changed(None, yellow)
    assert not score_changed(None, unscored)
    assert not score_changed(yellow, compute(HEALTH, TECHCORP))
    assert score_changed(yellow, compute(HEALTH, GLOBEX))
    assert score_changed(yellow, unscored)


def test_score_action_data_shows_whole_numbers() -> None:
    data = score_data(compute(HEALTH, TECHCORP))
    assert data == {
        "score": "health",
        "value": 69,
        "band": "yellow",
        "breakdown": {
            "product_usage": 20,
            "engagement": 25,
            "support_health": 15,
            "relationship": 7,
            "financial": 2,
        },
    }
    assert isinstance(data["value"], int)
    assert score_data(compute(HEALTH, {}))["missing"][:2] == ["dau_pct", "feature_adoption"]
