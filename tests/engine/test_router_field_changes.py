"""Routing field-change triggers (`csm changes`, `exec_sponsor changes from true to false`) and
`becomes` on fields: a change fires only from a known value; `becomes` keeps its edge rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from textwrap import dedent
from typing import Any

import pytest

from dsl import ir
from dsl.lowering import lower
from dsl.parser import parse
from engine.records import RouteResult, StartJourney
from engine.routing.router import Router
from engine.semantics.field_changes import change_fires, equals_literal
from engine.store import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)

SOURCE = """\
account fields:
    plan: one of starter, pro, enterprise
    exec_sponsor: boolean
    churn_risk: boolean
    seats: number
    csm: owner

playbook sponsor_left "Sponsor left":
    trigger: exec_sponsor changes from true to false
    create task "Find a new sponsor" for csm

playbook new_csm "New CSM":
    trigger: csm changes
    create task "Introduce yourself" for csm

playbook went_enterprise "Went enterprise":
    trigger: plan changes to "enterprise"
    create task "Enterprise kickoff" for csm

playbook left_pro "Left pro":
    trigger: plan changes from pro
    create task "Why did they leave pro?" for csm

playbook is_enterprise "Is enterprise":
    trigger: plan becomes enterprise
    create task "Enterprise welcome" for csm

playbook at_risk "At risk":
    trigger: churn_risk becomes true
    create task "Risk review" for csm
"""

BUNDLE = lower([parse(dedent(SOURCE), "field_changes.play")], {})
SAM = {"email": "sam@vendor.example", "name": "Sam"}
ANA = {"email": "ana@vendor.example", "name": "Ana"}


class Feed:
    def __init__(self, store: Store) -> None:
        self.store, self.router, self.count = store, Router(store, BUNDLE), 0

    def __call__(self, at: datetime, account: str = "acme", **traits: Any) -> list[str]:
        self.count += 1
        change = self.store.add_change(account, at, event=None, data={}, traits=traits, event_id=f"e-{self.count}")
        assert change is not None
        result: RouteResult = self.router.route(change)
        return sorted(intent.playbook for intent in result.intents if isinstance(intent, StartJourney))


@pytest.fixture
def feed(store: Store) -> Feed:
    return Feed(store)


def test_an_account_first_seen_without_a_sponsor_starts_no_sponsor_left_journey(feed: Feed) -> None:
    assert feed(T0, exec_sponsor=False, plan="enterprise", csm=SAM) == ["is_enterprise"]


def test_the_sponsor_leaving_starts_the_journey_with_the_change_as_its_reason(feed: Feed, store: Store) -> None:
    feed(T0, exec_sponsor=True, csm=SAM)
    change = store.add_change("acme", T0 + HOUR, event=None, data={}, traits={"exec_sponsor": False},
                              event_id="leave")
    assert change is not None
    result = feed.router.route(change)
    [start] = [intent for intent in result.intents if isinstance(intent, StartJourney)]
    assert (start.playbook, start.entry_at) == ("sponsor_left", T0 + HOUR)
    assert start.reason == "exec_sponsor changes from true to false (exec_sponsor was true, now false)"


def test_a_sponsor_first_set_later_is_no_change_of_a_known_value(feed: Feed) -> None:
    feed(T0, csm=SAM)
    assert feed(T0 + HOUR, exec_sponsor=False) == []
    assert feed(T0 + 2 * HOUR, exec_sponsor=True) == []
    assert feed(T0 + 3 * HOUR, exec_sponsor=False) == ["sponsor_left"]


def test_a_new_csm_fires_on_a_change_but_not_on_the_first_one_nor_on_removal(feed: Feed) -> None:
    assert feed(T0, csm=SAM) == []
    assert feed(T0 + HOUR, csm=ANA) == ["new_csm"]
    assert feed(T0 + 2 * HOUR, csm=None) == []
    assert feed(T0 + 3 * HOUR, csm=SAM) == []  # from unknown: no change of a known value


def test_changes_to_and_from_name_the_values_on_their_side(feed: Feed) -> None:
    assert feed(T0, plan="starter", csm=SAM) == []
    assert feed(T0 + HOUR, plan="pro") == []
    assert feed(T0 + 2 * HOUR, plan="enterprise") == ["is_enterprise", "left_pro", "went_enterprise"]


def test_becomes_on_a_boolean_fires_on_first_sight_and_rearms_only_after_false(feed: Feed) -> None:
    assert feed(T0, churn_risk=True, csm=SAM) == ["at_risk"]
    assert feed(T0 + HOUR, seats=3) == []
    assert feed(T0 + 2 * HOUR, churn_risk=None) == []  # unknown keeps the edge set
    assert feed(T0 + 3 * HOUR, churn_risk=True) == []
    assert feed(T0 + 4 * HOUR, churn_risk=False) == []
    assert feed(T0 + 5 * HOUR, churn_risk=True) == ["at_risk"]


def test_a_literal_matches_the_value_as_the_engine_keeps_it() -> None:
    yes = ir.Literal_(type="boolean", value=True)
    ten = ir.Literal_(type="number", value=10)
    assert equals_literal(True, yes) and not equals_literal(1, yes)
    assert equals_literal(10.0, ten) and not equals_literal(True, ten) and not equals_literal("10", ten)
    trigger = ir.ChangeTrigger(field="seats", before=ten)
    assert change_fires(trigger, {"seats": 12}, {"seats": 10})
    assert not change_fires(trigger, {"seats": 12}, {})
    assert not change_fires(trigger, {"plan": "pro"}, {"plan": "starter"})


def test_a_new_owner_is_named_by_email_in_the_reason(feed: Feed, store: Store) -> None:
    feed(T0, csm=SAM)
    change = store.add_change("acme", T0 + HOUR, event=None, data={}, traits={"csm": ANA}, event_id="handover")
    assert change is not None
    [start] = [i for i in feed.router.route(change).intents if isinstance(i, StartJourney)]
    assert start.reason == "csm changes (csm was 'sam@vendor.example', now 'ana@vendor.example')"
