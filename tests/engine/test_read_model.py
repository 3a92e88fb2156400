"""The read model (`engine.read_model`): the primary score chosen one way, an account's scores,
the account list, the task list and the action log, read from a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl import ir
from engine.read_model import (
    account_detail,
    account_scores,
    account_summaries,
    action_log,
    known_account,
    primary_score,
    task_list,
)
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _without_health(bundle: ir.Bundle, *names: str) -> ir.Bundle:
    """The bundle with scores of these names (each the health score renamed) instead of its own."""
    health = bundle.scores["health"]
    return bundle.model_copy(update={"scores": {name: health.model_copy(update={"name": name}) for name in names}})


def _account(store: Store, account: str, **traits: object) -> None:
    store.add_change(account, T0, event=None, data={}, event_id=None, traits={"name": account.title(), **traits})


def _score(store: Store, account: str, name: str, at: datetime, value: float | None, band: str | None) -> None:
    store.record_score(account, ScoreState(name=name, value=value, band=band, breakdown={"usage": value or 0.0},
                                           missing=[] if value is not None else ["nps"]), at)


# --------------------------------------------------------------------------- the primary score


def test_the_primary_score_is_health_when_the_bundle_has_it(bundle: ir.Bundle) -> None:
    assert "health" in bundle.scores
    assert primary_score(bundle) == "health"
    assert primary_score(bundle, recorded=["adoption"]) == "health"  # the bundle decides when there is one


def test_without_health_the_primary_score_is_the_first_of_the_bundle_by_name(bundle: ir.Bundle) -> None:
    assert primary_score(_without_health(bundle, "risk", "engagement")) == "engagement"
    assert primary_score(_without_health(bundle)) is None


def test_without_a_bundle_the_primary_score_is_chosen_among_the_recorded_ones_by_the_same_rule() -> None:
    assert primary_score(None, recorded=["risk", "health", "adoption"]) == "health"
    assert primary_score(None, recorded=["risk", "adoption"]) == "adoption"
    assert primary_score(None) is None


def test_the_account_list_shows_the_bundles_primary_score_not_the_first_recorded(
        store: Store, bundle: ir.Bundle) -> None:
    _account(store, "techcorp", segment="smb")
    _score(store, "techcorp", "adoption", T0, 12, "red")  # recorded once, no longer in the bundle
    _score(store, "techcorp", "health", T0, 70, "yellow")
    _score(store, "techcorp", "health", T0 + timedelta(days=1), 81, "green")
    [summary] = account_summaries(store, bundle)
    assert (summary.score, summary.band, summary.updated) == (81, "green", T0 + timedelta(days=1))
    [unbundled] = account_summaries(store, None)
    assert (unbundled.score, unbundled.band) == (81, "green")  # health is recorded: the same rule picks it


def test_with_no_bundle_and_no_health_the_list_shows_the_first_recorded_score(store: Store) -> None:
    _account(store, "techcorp")
    _account(store, "globex")
    _score(store, "techcorp", "risk", T0, 20, "red")
    _score(store, "globex", "adoption", T0, 55, "yellow")
    summaries = {summary.id: summary for summary in account_summaries(store, None)}
    assert (summaries["globex"].score, summaries["globex"].band) == (55, "yellow")
    assert (summaries["techcorp"].score, summaries["techcorp"].band) == (None, None)  # no adoption recorded


def test_the_account_list_filters_by_band_and_segment(store: Store, bundle: ir.Bundle) -> None:
    for account, segment, value, band in (("a", "smb", 30, "red"), ("b", "smb", 90, "green"),
                                          ("c", "enterprise", 20, "red")):
        _account(store, account, segment=segment)
        _score(store, account, "health", T0, value, band)
    _account(store, "d", segment="smb")
    assert [s.id for s in account_summaries(store, bundle)] == ["a", "b", "c", "d"]
    assert [s.id for s in account_summaries(store, bundle, band="red")] == ["a", "c"]
    assert [s.id for s in account_summaries(store, bundle, band="red", segment="smb")] == ["a"]
    assert [s.id for s in account_summaries(store, bundle, segment="smb")] == ["a", "b", "d"]


# --------------------------------------------------------------------------- one account


def test_an_unknown_account_has_no_detail(store: Store, bundle: ir.Bundle) -> None:
    _account(store, "techcorp")
    assert account_detail(store, bundle, "nobody") is None
    assert account_detail(store, None, "nobody") is None


def test_with_a_bundle_every_score_of_the_bundle_is_shown_an_unrecorded_one_missing_its_inputs(
        store: Store, bundle: ir.Bundle) -> None:
    _account(store, "techcorp")
    _score(store, "techcorp", "adoption", T0, 12, "red")
    scores = account_scores(store, bundle, "techcorp")
    assert list(scores) == sorted(bundle.scores)
    health = scores["health"]
    assert (health.value, health.band, health.at, health.history) == (None, None, None, [])
    assert health.missing == list(bundle.scores["health"].inputs)


def test_without_a_bundle_the_recorded_scores_are_shown_with_their_history(store: Store) -> None:
    _account(store, "techcorp")
    _score(store, "techcorp", "risk", T0, 20, "red")
    _score(store, "techcorp", "adoption", T0, None, None)
    _score(store, "techcorp", "adoption", T0 + timedelta(hours=1), 64, "yellow")
    scores = account_scores(store, None, "techcorp")
    assert list(scores) == ["adoption", "risk"]
    adoption = scores["adoption"]
    assert (adoption.value, adoption.band, adoption.breakdown, adoption.missing) == (64, "yellow", {"usage": 64}, [])
    assert [(point.at, point.value, point.band) for point in adoption.history] == [
        (T0, None, None), (T0 + timedelta(hours=1), 64, "yellow")]


def test_an_accounts_detail_keeps_its_newest_actions(store: Store, bundle: ir.Bundle) -> None:
    _account(store, "techcorp")
    for minute in range(60):
        store.log_action(ActionRecord(at=T0 + timedelta(minutes=minute), account="techcorp", playbook="p",
                                      kind="decided", data={"what": "step", "detail": str(minute)}))
    detail = account_detail(store, bundle, "techcorp")
    assert detail is not None
    assert [line["detail"] for line in detail.recent_actions] == [str(minute) for minute in range(10, 60)]
    assert detail.missing == {name: score.missing for name, score in detail.scores.items()}


# --------------------------------------------------------------------------- tasks


def _task(store: Store, id: str, owner: str, due: datetime | None, account: str = "techcorp") -> None:
    store.create_task(TaskRecord(id=id, account=account, playbook="renewal", title=f"Call [{id}]", owner=owner,
                                 due=due, priority="high", created_at=T0), key=f"key-{id}", journey=None)


def test_the_task_list_filters_and_marks_the_overdue_ones(store: Store) -> None:
    now = T0 + timedelta(days=2)
    _task(store, "late", "sam@vendor.example", T0 + timedelta(days=1))
    _task(store, "soon", "sam@vendor.example", T0 + timedelta(days=3))
    _task(store, "lee", "lee@vendor.example", None, account="globex")
    _task(store, "done", "sam@vendor.example", T0)
    store.complete_tasks("techcorp", T0 + timedelta(hours=1), task_id="done")
    every = task_list(store, now)
    assert [(task.id, task.status, task.overdue) for task in every] == [
        ("done", "done", False), ("late", "open", True), ("lee", "open", False), ("soon", "open", False)]
    assert [task.id for task in task_list(store, now, status="open")] == ["late", "lee", "soon"]
    assert [task.id for task in task_list(store, now, owner="sam@vendor.example", status="open")] == ["late", "soon"]
    assert [task.id for task in task_list(store, now, account="globex")] == ["lee"]
    assert [task.id for task in task_list(store, now, overdue=True)] == ["late"]
    assert [task.id for task in task_list(store, now, status="done", overdue=True)] == ["late"]  # open ones only


# --------------------------------------------------------------------------- the action log


def _log(store: Store) -> None:
    for minute, account, kind in ((0, "techcorp", "enrolled"), (1, "globex", "email"), (2, "techcorp", "email"),
                                  (3, "techcorp", "exited"), (4, "techcorp", "email")):
        store.log_action(ActionRecord(at=T0 + timedelta(minutes=minute), account=account, playbook="onboarding",
                                      kind=kind, data={"template": f"t{minute}"} if kind == "email" else {}))


def test_the_log_is_the_contracts_lines_oldest_first_filtered(store: Store) -> None:
    _log(store)
    lines = action_log(store)
    assert [line["template"] for line in lines if line["kind"] == "email"] == ["t1", "t2", "t4"]
    assert lines[0] == {"at": "2026-01-05T09:00:00+00:00", "account": "techcorp", "playbook": "onboarding",
                        "kind": "enrolled"}
    assert [line["kind"] for line in action_log(store, account="techcorp")] == ["enrolled", "email", "exited", "email"]
    assert [line["template"] for line in action_log(store, account="techcorp", kind="email")] == ["t2", "t4"]
    assert len(action_log(store, since=T0 + timedelta(minutes=3))) == 2  # its own instant included
    assert action_log(store, playbook="renewal") == []


def test_the_log_pages_to_the_newest_lines_still_oldest_first(store: Store) -> None:
    _log(store)
    assert [line["at"] for line in action_log(store, last=2)] == ["2026-01-05T09:03:00+00:00",
                                                                  "2026-01-05T09:04:00+00:00"]
    assert [line["template"] for line in action_log(store, kind="email", last=2)] == ["t2", "t4"]
    assert action_log(store, last=0) == []
    assert len(action_log(store, last=50)) == 5


def test_an_account_is_known_by_its_fields_or_by_its_logged_actions(store: Store) -> None:
    _account(store, "techcorp")
    store.log_action(ActionRecord(at=T0, account="erased", playbook="onboarding", kind="exited"))
    assert known_account(store, "techcorp")
    assert known_account(store, "erased")  # its fields are gone, its story is not
    assert not known_account(store, "nobody")
