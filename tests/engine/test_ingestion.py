"""Ingestion: JSON lines in, checked against the model, stored once; bad lines reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsl import ir
from engine.intake.ingestion import Ingestor, InputItem, normalize, parse_lines
from engine.records import Rejection
from engine.store import Store

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

MODEL = ir.Model(
    fields={
        "segment": ir.FieldType(type="enum", values=("enterprise", "mid_market", "smb", "trial")),
        "arr": ir.FieldType(type="money"),
        "dau_pct": ir.FieldType(type="percent"),
        "renewal_date": ir.FieldType(type="date"),
        "csm": ir.FieldType(type="owner"),
        "primary_contact": ir.FieldType(type="contact"),
    },
    events={
        "signed": ir.EventDef(name="signed"),
        "login": ir.EventDef(name="login"),
        "nps_response": ir.EventDef(name="nps_response", payload={"score": ir.FieldType(type="number")}),
    },
)


def lines(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


# --------------------------------------------------------------------------- parse_lines


def test_json_lines_are_numbered_and_blank_lines_skipped() -> None:
    parsed = parse_lines('{"a": 1}\n\n   \n{"b": 2}\n')
    assert parsed == [(1, {"a": 1}), (4, {"b": 2})]


def test_a_line_that_is_not_json_is_rejected_with_its_number() -> None:
    parsed = parse_lines('{"a": 1}\n{"b": \n[1]\nNaN\n')
    assert parsed[0] == (1, {"a": 1})
    assert isinstance(parsed[1], Rejection) and parsed[1].line == 2
    assert parsed[1].reason.startswith("not JSON")
    assert parsed[2] == Rejection(line=3, reason="expected a JSON object, got a list")
    assert isinstance(parsed[3], Rejection) and parsed[3].line == 4 and "NaN" in parsed[3].reason


def test_one_object_spanning_lines_is_one_input() -> None:
    assert parse_lines('\n{\n  "account": "a",\n  "event": "signed"\n}\n') == [
        (2, {"account": "a", "event": "signed"})
    ]


def test_a_json_array_body_gives_each_element_the_line_it_starts_on() -> None:
    body = '[\n  {"a": 1},\n  {"b": 2}, 3,\n\n  {"c":\n    3}\n]'
    assert parse_lines(body) == [
        (2, {"a": 1}), (3, {"b": 2}), Rejection(line=3, reason="expected a JSON object, got a number"),
        (5, {"c": 3}),
    ]


def test_lines_from_an_open_file_are_read_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\nnope\n', encoding="utf-8")
    with path.open(encoding="utf-8") as handle:
        parsed = parse_lines(handle)
    assert parsed[0] == (1, {"a": 1})
    assert isinstance(parsed[1], Rejection) and parsed[1].line == 2


# --------------------------------------------------------------------------- normalize


def test_the_native_form_is_normalised() -> None:
    item = normalize({"id": "e-1", "account": "techcorp", "at": "2026-01-05T10:00:00+01:00",
                      "event": "nps_response", "data": {"score": 9, "comment": "great"}}, MODEL, NOW)
    assert item == InputItem(id="e-1", account="techcorp", at=T0, event="nps_response",
                             data={"score": 9, "comment": "great"})


def test_at_defaults_to_the_time_of_ingestion() -> None:
    item = normalize({"account": "a", "traits": {"arr": 5}}, MODEL, NOW)
    assert isinstance(item, InputItem) and item.at == NOW


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"event": "signed"}, "no account"),
        ({"account": "", "event": "signed"}, "no account"),
        ({"account": ["a"], "event": "signed"}, "'account' must be text"),
        ({"account": "a", "at": "yesterday", "event": "signed"}, "'at': expected a date and time"),
        ({"account": "a", "at": "2026-01-05T09:00:00", "event": "signed"}, "needs a time zone offset"),
        ({"account": "a", "event": "singed"}, "undeclared event 'singed' (did you mean 'signed'?)"),
        ({"account": "a"}, "neither an 'event' nor 'traits'"),
        ({"account": "a", "traits": {}}, "neither an 'event' nor 'traits'"),
        ({"account": "a", "traits": {"dau_pct": "abc"}},
         "trait 'dau_pct': expected a percentage from 0 to 100, got 'abc'"),
        ({"account": "a", "traits": {"renewal_date": "next spring"}},
         "trait 'renewal_date': expected a date such as 2026-04-15"),
        ({"account": "a", "traits": {"csm": {"name": "Sam"}}}, "trait 'csm': owner needs an 'email'"),
        ({"account": "a", "event": "nps_response", "data": {"score": "nine"}},
         "event nps_response data 'score': expected a number, got 'nine'"),
        ({"account": "a", "traits": "smb"}, "'traits' must be an object"),
        ({"account": "a", "event": "task_completed"}, "task_completed needs data.task"),
        ({"account": "a", "event": "unsubscribed", "data": {}}, "unsubscribed needs data.email"),
        ({"account": "a", "traits": {"arr": 1}, "data": {"x": 1}}, "'data' belongs to an event"),
        ({"account": "a" * 201, "event": "signed"}, "longer than 200 characters"),
    ],
)
def test_a_bad_object_is_rejected_with_a_reason_naming_the_place(obj: dict[str, object], reason: str) -> None:
    result = normalize(obj, MODEL, NOW)
    assert isinstance(result, str)
    assert reason in result


def test_undeclared_traits_and_data_keys_are_kept_as_sent() -> None:
    item = normalize({"account": "a", "event": "signed", "data": {"plan": {"tier": 2}},
                      "traits": {"favourite_colour": "teal", "arr": 25000}}, MODEL, NOW)
    assert isinstance(item, InputItem)
    assert item.data == {"plan": {"tier": 2}}
    assert item.traits == {"favourite_colour": "teal", "arr": 25000}


def test_reserved_events_need_no_declaration() -> None:
    for obj in ({"account": "a", "event": "task_completed", "data": {"task": "t1"}},
                {"account": "a", "event": "bounced", "data": {"email": "ana@t.example"}}):
        assert isinstance(normalize(obj, MODEL, NOW), InputItem)


# --------------------------------------------------------------------------- Segment


def test_a_segment_track_call_is_an_event_of_the_group() -> None:
    call = {"type": "track", "event": "login", "messageId": "m-1", "timestamp": "2026-01-05T09:00:00.000Z",
            "userId": "u-9", "properties": {"device": "ios"}, "context": {"groupId": "techcorp"}}
    assert normalize(call, MODEL, NOW) == InputItem(id="m-1", account="techcorp", at=T0, event="login",
                                                    data={"device": "ios"})


def test_a_segment_track_call_may_name_the_account_in_its_properties() -> None:
    call = {"type": "track", "event": "login", "properties": {"account": "globex"}}
    item = normalize(call, MODEL, NOW)
    assert isinstance(item, InputItem) and item.account == "globex" and item.at == NOW


def test_a_segment_group_call_updates_the_accounts_traits() -> None:
    call = {"type": "group", "groupId": "techcorp", "messageId": "m-2", "timestamp": "2026-01-05T09:00:00Z",
            "traits": {"segment": "smb", "arr": 18000, "industry": "retail"}}
    assert normalize(call, MODEL, NOW) == InputItem(
        id="m-2", account="techcorp", at=T0, traits={"segment": "smb", "arr": 18000, "industry": "retail"}
    )


def test_a_segment_identify_call_with_a_group_updates_that_account() -> None:
    call = {"type": "identify", "userId": "u-1", "traits": {"groupId": "techcorp", "dau_pct": 65}}
    item = normalize(call, MODEL, NOW)
    assert isinstance(item, InputItem)
    assert (item.account, item.traits) == ("techcorp", {"dau_pct": 65})


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ({"type": "track", "event": "login", "properties": {}}, "track call has no account"),
        ({"type": "track", "event": "shrug", "context": {"groupId": "a"}}, "undeclared event 'shrug'"),
        ({"type": "group", "traits": {"arr": 1}}, "group call has no 'groupId'"),
        ({"type": "group", "groupId": "a", "traits": {"arr": "lots"}}, "trait 'arr': expected a number"),
        ({"type": "identify", "userId": "u-1", "traits": {"email": "x@y.z"}}, "identify call has no account"),
        ({"type": "page", "name": "Home"}, "Segment 'page' calls are not accepted"),
    ],
)
def test_a_bad_segment_call_is_rejected_with_a_reason(call: dict[str, object], reason: str) -> None:
    result = normalize(call, MODEL, NOW)
    assert isinstance(result, str) and reason in result


# --------------------------------------------------------------------------- Ingestor


def test_a_batch_stores_the_good_lines_and_reports_each_bad_one(store: Store) -> None:
    ingestor = Ingestor(store, MODEL)
    ingestor.ingest(lines({"id": "e-0", "account": "techcorp", "at": "2026-01-04T09:00:00Z",
                           "traits": {"arr": 12000, "segment": "smb"}}), NOW)
    before = (store.current_fields("techcorp"), store.events_until("techcorp", NOW))

    result = ingestor.ingest(lines(
        {"id": "e-1", "account": "techcorp", "at": "2026-01-05T09:00:00Z", "event": "signed"},
        "{not json",
        {"account": "techcorp", "traits": {"arr": "a lot"}},
        {"account": "techcorp", "event": "exploded"},
        {"id": "e-2", "account": "globex", "at": "2026-01-05T10:00:00Z", "traits": {"dau_pct": 40}},
        {"event": "signed"},
    ), NOW)

    assert [(c.event_id, c.account) for c in result.accepted] == [("e-1", "techcorp"), ("e-2", "globex")]
    assert [r.line for r in result.rejected] == [2, 3, 4, 6]
    assert result.rejected[0].reason.startswith("not JSON")
    assert "trait 'arr'" in result.rejected[1].reason
    assert "undeclared event 'exploded'" in result.rejected[2].reason
    assert "no account" in result.rejected[3].reason
    assert store.current_fields("techcorp") == before[0]  # the bad trait line changed nothing
    assert store.events_until("techcorp", T0 - timedelta(seconds=1)) == before[1]
    assert store.current_fields("globex") == {"dau_pct": 40}


def test_a_batch_sent_twice_is_counted_as_duplicates(store: Store) -> None:
    ingestor = Ingestor(store, MODEL)
    batch = lines(
        {"id": "e-1", "account": "a", "at": "2026-01-05T09:00:00Z", "event": "signed"},
        {"id": "e-2", "account": "a", "at": "2026-01-05T09:00:00Z", "traits": {"arr": 1}},
        {"id": "e-1", "account": "a", "at": "2026-01-05T09:00:00Z", "event": "signed"},
    )
    first = ingestor.ingest(batch, NOW)
    second = ingestor.ingest(batch, NOW)
    assert (len(first.accepted), first.duplicates) == (2, 1)
    assert (len(second.accepted), second.duplicates) == (0, 3)
    assert len(store.events_until("a", NOW)) == 1


def test_accepted_changes_come_back_in_input_order_with_normalised_values(store: Store) -> None:
    result = Ingestor(store, MODEL).ingest(lines(
        {"account": "a", "at": "2026-01-05T09:00:00Z", "traits": {"renewal_date": "2026-04-15"}},
        {"account": "a", "at": "2026-01-05T08:00:00Z", "event": "login"},
    ), NOW)
    assert [c.seq for c in result.accepted] == sorted(c.seq for c in result.accepted)
    assert result.accepted[0].traits == {"renewal_date": "2026-04-15"}
    assert result.accepted[1].event == "login"


def test_objects_from_the_python_api_are_checked_the_same_way(store: Store) -> None:
    result = Ingestor(store, MODEL).ingest_objects(
        [{"account": "a", "event": "signed"}, {"account": "a", "event": "nope"}], NOW
    )
    assert len(result.accepted) == 1
    assert [r.line for r in result.rejected] == [2]


def test_a_segment_batch_is_ingested(store: Store) -> None:
    result = Ingestor(store, MODEL).ingest(lines(
        {"type": "group", "groupId": "techcorp", "messageId": "g-1", "timestamp": "2026-01-05T09:00:00Z",
         "traits": {"segment": "smb"}},
        {"type": "track", "event": "signed", "messageId": "t-1", "timestamp": "2026-01-05T09:00:00Z",
         "context": {"groupId": "techcorp"}},
    ), NOW)
    assert result.rejected == []
    assert store.current_fields("techcorp") == {"segment": "smb"}
    assert [name for name, _, _ in store.events_until("techcorp", NOW)] == ["signed"]


def test_an_unsubscribe_line_suppresses_the_address(store: Store) -> None:
    Ingestor(store, MODEL).ingest(lines(
        {"account": "a", "event": "unsubscribed", "data": {"email": "ana@t.example"}}
    ), NOW)
    assert store.suppression("ana@t.example") == "unsubscribed"


def test_small_storage_batches_give_the_same_result(store: Store) -> None:
    batch = lines(*[{"id": f"e-{i % 5}", "account": f"a{i % 3}", "event": "login"} for i in range(9)], "{")
    result = Ingestor(store, MODEL, batch_size=2).ingest(batch, NOW)
    assert [c.event_id for c in result.accepted] == ["e-0", "e-1", "e-2", "e-3", "e-4"]
    assert (result.duplicates, [r.line for r in result.rejected]) == (4, [10])
