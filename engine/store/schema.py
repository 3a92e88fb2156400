"""The store's tables (SQLAlchemy Core). Migrations create them; this module describes them.

Every accepted input object is one row of `events`: a named event, a trait update (`name` is
NULL), or both. Its `seq` is the `Change.seq` handed to the router, and the rows it causes in
`trait_history` carry the same `seq`. `tests/engine/test_store_migrations.py` proves the Alembic
migrations produce exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from engine.store.types import JsonDocument, UtcDateTime, UtcMicros

__all__ = [
    "account_cards",
    "account_notes",
    "accounts",
    "action_tallies",
    "actions",
    "arm_counts",
    "card_total_changes",
    "card_totals",
    "condition_state",
    "controls",
    "drafts",
    "events",
    "journey_counts",
    "journeys",
    "messages",
    "metadata",
    "next_due",
    "relay_sends",
    "revoked_sessions",
    "routing_intents",
    "routing_partitions",
    "score_history",
    "suppressions",
    "tally_marks",
    "task_counts",
    "task_durations",
    "tasks",
    "team_turns",
    "tracked_messages",
    "trait_history",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(200)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("traits", JsonDocument, nullable=False),
    # field -> ISO time of its latest observation: an older value arriving late goes to the
    # history without replacing the current one.
    Column("traits_at", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # how many changes (events rows) the account has: +1 per change the store inserts (0018), so live
    # routing checks the histories it keeps with one read by key (`engine.routing.account_histories`)
    Column("changes", Integer, nullable=False, server_default="0"),
    postgresql_with={"fillfactor": 50},  # rewritten by every change of the account: room for HOT updates (0020)
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=True, unique=True),
    Column("account", ID, nullable=False),
    Column("name", String(200), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("traits", JsonDocument, nullable=False),
    Column("source", String(200), nullable=False),
    Column("received_at", UtcMicros, nullable=False),  # SQLite: microseconds (integer), 8 bytes
    Column("routed_at", UtcMicros, nullable=True),
    Index(None, "account", "name", "at"),
    # only the events not routed yet: the router's queue
    Index("ix_events_unrouted", "seq", sqlite_where=text("routed_at IS NULL"),
          postgresql_where=text("routed_at IS NULL")),
)

# One row per field a change set, kept in its key's order: an account's history is one range
# of the table (SQLite: without rowid, no index beside it). Rows at the same time are in `seq`
# order, the order they were stored in (a change sets a field once: the key is unique).
trait_history = Table(
    "trait_history",
    metadata,
    Column("account", ID, primary_key=True),
    Column("at", UtcDateTime, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # the change's: its source is the event's
    Column("field", String(200), primary_key=True),
    Column("value", JsonDocument, nullable=True),
    sqlite_with_rowid=False,
)

score_history = Table(
    "score_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", ID, nullable=False),
    Column("score", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("value", Float, nullable=True),
    Column("band", String(200), nullable=True),
    Column("breakdown", JsonDocument, nullable=False),
    Column("missing", JsonDocument, nullable=False),
    Index(None, "account", "score", "at"),
    Index(None, "account", "at"),  # an account's timeline, every score at once (0010)
)

condition_state = Table(
    "condition_state",
    metadata,
    Column("account", ID, primary_key=True),
    Column("key", String(500), primary_key=True),
    Column("value", Boolean, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,  # the rows kept in their key's order: no second copy of the key as an index
)

journeys = Table(
    "journeys",
    metadata,
    Column("workflow_id", String(500), primary_key=True),
    Column("run_id", String(200), primary_key=True),
    Column("playbook", String(200), nullable=False),
    Column("account", ID, nullable=False),
    Column("version", String(200), nullable=False),
    Column("entered_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("status", String(20), nullable=False),  # active completed exited goal_reached failed
    Column("reason", Text, nullable=True),
    Index(None, "playbook", "account", "status"),
    Index(None, "account", "status"),
    Index(None, "playbook", "status", "reason"),  # a playbook's journeys counted by how they ended (0010)
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("account", ID, nullable=False),
    Column("playbook", String(200), nullable=True),
    Column("journey", String(500), nullable=True),
    Column("title", Text, nullable=False),
    Column("owner", String(320), nullable=False),
    Column("due", UtcDateTime, nullable=True),
    Column("priority", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # open done
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("key", String(500), nullable=False, unique=True),
    Column("task_type", String(100), nullable=True),
    Column("reason", String(200), nullable=True),
    Column("description", Text, nullable=True),
    Column("checklist", JsonDocument, nullable=True),  # [{title, due, done_at}]
    Column("outcome", String(100), nullable=True),  # how it was closed: resolved, no_response, churned …
    Column("open_key", String(600), nullable=True),  # account, type and reason of an open deduped item
    Column("bound", JsonDocument, nullable=True),  # [{playbook, journey, key, at}]: journeys bound to it later
    Column("team", String(200), nullable=True),  # the team it was assigned among, if it was
    Column("snoozed_until", UtcDateTime, nullable=True),  # not overdue before then
    Column("snooze_reason", Text, nullable=True),
    Column("escalated_to", String(320), nullable=True),  # `escalate to manager after …`: to whom, when
    Column("escalated_at", UtcDateTime, nullable=True),
    Index(None, "account", "status"),
    Index(None, "owner", "status"),
    Index("ix_tasks_open_key", "open_key", unique=True),
    Index(None, "owner", "status", "due", "id"),  # a CSM's work by due date (0010)
    Index(None, "status", "due", "id"),  # the overdue items of a team (0010)
    Index(None, "playbook", "created_at"),  # a playbook's stats and funnel (0010)

)

drafts = Table(
    "drafts",  # emails kept for a person's review before they go (`send email … review by csm within …`)
    metadata,
    Column("id", String(40), primary_key=True),
    Column("key", String(500), nullable=False, unique=True),  # the send's idempotency key
    Column("account", ID, nullable=False),
    Column("playbook", String(200), nullable=True),
    Column("journey", String(500), nullable=True),
    Column("template", String(200), nullable=False),
    Column("to", String(320), nullable=False),
    Column("to_name", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("reviewer", String(320), nullable=False),
    Column("review_by", UtcDateTime, nullable=False),
    Column("policy", String(10), nullable=False),  # unanswered by review_by: send | drop
    Column("state", String(20), nullable=False),  # pending approved edited discarded sent_unreviewed dropped_unreviewed
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(320), nullable=True),
    Column("reason", Text, nullable=True),  # why it was discarded
    Index(None, "state", "reviewer"),
    Index(None, "account"),
)

team_turns = Table(
    "team_turns",
    metadata,
    Column("team", String(200), primary_key=True),
    Column("turn", Integer, nullable=False),  # assignments made by round robin so far
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("account", ID, nullable=False),
    Column("playbook", String(200), nullable=True),
    Column("channel", String(20), nullable=False),  # email in_app
    Column("template", String(200), nullable=False),
    Column("to_addr", String(320), nullable=True),
    Column("subject", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("html", Text, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # sent suppressed
    Column("reason", Text, nullable=True),
    Column("key", String(500), nullable=False, unique=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index(None, "account", "channel", "status", "at"),
)

tracked_messages = Table(  # emails sent with engagement tracking: their links (engine/store/engagement.py)
    "tracked_messages",
    metadata,
    Column("ref", String(32), primary_key=True),
    Column("key", String(500), nullable=False),
    Column("account", ID, nullable=False),
    Column("playbook", String(200), nullable=True),
    Column("template", String(200), nullable=False),
    Column("links", JsonDocument, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("engagements", Integer, nullable=False),  # events stored, in all
    Column("window_events", Integer, nullable=False),  # events stored since window_start (the hour's bound)
    Column("window_start", UtcDateTime, nullable=False),
    Index(None, "account"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("reason", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

controls = Table(  # what the operator stopped: `playbook:<id>` paused, `sends` every send held
    "controls",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("reason", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

account_notes = Table(  # what a CSM wrote about an account (engine/store/notes.py)
    "account_notes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("account", ID, nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(320), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "account", "at"),
)

revoked_sessions = Table(  # dashboard sessions signed out before they expire
    "revoked_sessions",
    metadata,
    Column("session", String(64), primary_key=True),
    Column("expires", UtcDateTime, nullable=False),
)

relay_sends = Table(  # messages handed to the relay lately: the shared send-rate limit's window
    "relay_sends",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "at"),
)

actions = Table(
    "actions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account", ID, nullable=False),
    Column("playbook", String(200), nullable=True),
    Column("kind", String(50), nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("key", String(500), nullable=True, unique=True),
    Index(None, "account", "at"),
    Index(None, "playbook", "at"),
    Index(None, "at"),
)

cursors = Table(
    "cursors",  # how far periodic work has gone (the scheduler of time triggers: `scheduler`)
    metadata,
    Column("name", String(200), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
)

routing_partitions = Table(
    "routing_partitions",  # the rows routers claim, one per partition of the accounts (PostgreSQL)
    metadata,
    Column("partition", Integer, primary_key=True, autoincrement=False),
)

routing_intents = Table(
    "routing_intents",  # the starts and signals of routed changes, committed with their routing, then drained
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change", Integer, nullable=False),  # the routed change's seq
    Column("position", Integer, nullable=False),  # the intent's place among the change's intents
    Column("partition", Integer, nullable=False),
    Column("account", ID, nullable=False),
    Column("intent", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("drained_at", UtcDateTime, nullable=True),
    Column("owner", String(40), nullable=True),  # the single router that committed it (None: shared routing)
    Column("attempts", Integer, nullable=False, server_default="0"),  # refusals by Temporal so far
    Column("last_error", Text, nullable=True),  # the last refusal's reason
    Column("parked_at", UtcDateTime, nullable=True),  # refused too often: kept, not tried again
    UniqueConstraint("change", "position"),
    Index("ix_routing_intents_undrained", "drained_at", "partition", "id"),
    Index(None, "account", "id"),
)

next_due = Table(
    "next_due",  # each account's next time-trigger moment, a lower bound (engine/store/next_due.py)
    metadata,
    Column("account", ID, primary_key=True),
    Column("at", UtcDateTime, nullable=True),  # None: no time trigger will fire for it
    Column("version", Integer, nullable=False),  # bumped by each mark: a pass updates only rows it read
    Index(None, "at"),
)

account_cards = Table(  # one line per account as the cockpit lists it (engine/store/account_cards.py)
    "account_cards",
    metadata,
    Column("account", ID, primary_key=True),
    Column("name", Text, nullable=True),  # the name field
    Column("name_key", String(200), nullable=False),  # the name in lower case: sorting and search
    Column("segment", String(200), nullable=True),
    Column("arr", Float, nullable=True),
    Column("renewal", String(10), nullable=True),  # the renewal date, YYYY-MM-DD
    Column("csm_email", String(320), nullable=True),  # in lower case
    Column("csm_name", String(200), nullable=True),  # the owner's name, else the address's local part
    Column("manager_email", String(320), nullable=True),  # the CSM's manager, in lower case
    Column("score_name", String(200), nullable=True),  # `health` when recorded, else the first by name
    Column("score", Float, nullable=True),
    Column("band", String(200), nullable=True),
    Column("scored_at", UtcDateTime, nullable=True),
    Index(None, "name_key", "account"),
    Index(None, "arr", "account"),
    Index(None, "renewal", "account"),
    Index(None, "score", "account"),
    Index(None, "band", "name_key", "account"),
    Index(None, "band", "arr", "account"),
    Index(None, "band", "renewal", "arr"),
    Index(None, "band", "score", "account"),
    Index(None, "csm_email", "band", "arr", "renewal"),
    Index(None, "csm_email", "band", "name_key", "account"),  # a CSM's accounts of a band by name (0017)
    Index(None, "csm_email", "name_key", "account"),  # a CSM's accounts by name (0017)
    Index(None, "segment", "band", "arr", "renewal"),
    Index(None, "manager_email", "csm_email"),
    Index(None, "csm_email", "csm_name"),
)

card_totals = Table(  # the account cards counted by band, as of the last fold (engine/store/card_totals.py)
    "card_totals",
    metadata,
    Column("band_key", String(200), primary_key=True),  # the band, "" for unscored cards
    Column("accounts", Integer, nullable=False),
    Column("arr", Float, nullable=False),
)

card_total_changes = Table(  # what the cards' triggers added since the last fold (engine/store/card_totals.py)
    "card_total_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("band_key", String(200), nullable=False),
    Column("accounts", Integer, nullable=False),  # +1 a card came into the band, -1 one left it
    Column("arr", Float, nullable=False),
)

action_tallies = Table(  # the action log counted by statement path (engine/store/action_tallies.py)
    "action_tallies",
    metadata,
    Column("tally_key", String(64), primary_key=True),  # sha256 of the grouped values
    Column("playbook", String(200), nullable=False),
    Column("path", Text, nullable=True),  # None: an admission decision
    Column("kind", String(50), nullable=False),
    Column("what", String(200), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("block", String(200), nullable=True),
    Column("subject", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("n", Integer, nullable=False),
    Index(None, "playbook"),
)

tally_marks = Table(  # how far the tallies have counted: the last `seq` of the actions folded in
    "tally_marks",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("seq", Integer, nullable=False),
)

journey_counts = Table(  # journeys by how they stand, kept as they change (engine/store/playbook_tallies.py, 0013)
    "journey_counts",
    metadata,
    Column("playbook", String(200), primary_key=True),
    Column("version", String(200), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("reason", Text, primary_key=True),  # '': none
    Column("n", Integer, nullable=False),
)

task_counts = Table(  # journeys' tasks by statement, status and outcome (engine/store/task_tallies.py, 0013)
    "task_counts",
    metadata,
    Column("playbook", String(200), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("status", String(10), primary_key=True),
    Column("outcome", Text, primary_key=True),  # '': none
    Column("n", Integer, nullable=False),
)

task_durations = Table(  # each completed journey task's time to complete, in order per statement (0013)
    "task_durations",
    metadata,
    Column("playbook", String(200), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("seconds", Float, primary_key=True),
    Column("task", String(200), primary_key=True),
    Index(None, "task"),
)

arm_counts = Table(  # split decisions by arm and their journey's status now (engine/store/playbook_tallies.py, 0013)
    "arm_counts",
    metadata,
    Column("playbook", String(200), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("label", Text, primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("n", Integer, nullable=False),
)
