"""The store: the records people query (accounts, events, scores, tasks, messages, the action
log), on SQLite by default and PostgreSQL by URL. Temporal holds the journeys' state.

Synchronous and safe to share between threads: activities call it from their worker threads.
Each method is one transaction; see `engine.store.database` for how writers are serialised.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.store.accounts import AccountSection
from engine.store.action_tallies import TallySection
from engine.store.actions import ActionSection
from engine.store.assignment import AssignmentSection
from engine.store.controls import ControlSection
from engine.store.database import Database
from engine.store.drafts import DraftSection
from engine.store.engagement import EngagementSection
from engine.store.erasure import ErasureSection
from engine.store.journeys import JourneySection
from engine.store.migrate import current_revision, head_revision, upgrade_to_head
from engine.store.next_due import NextDueSection
from engine.store.notes import NoteSection
from engine.store.outbox import MessageSection
from engine.store.parked_intents import ParkedIntentSection
from engine.store.playbook_tallies import PlaybookTallySection
from engine.store.routing_queue import RoutingQueueSection
from engine.store.scores import ScoreSection
from engine.store.send_counts import SendCountSection
from engine.store.task_changes import TaskChangeSection
from engine.store.task_tallies import TaskTallySection
from engine.store.tasks import TaskSection
from engine.store.work_items import WorkItemSection

__all__ = ["Store", "StoreUnavailable"]


class StoreUnavailable(Exception):
    """The database cannot be reached, opened or migrated; the message names it."""


class Store(AccountSection, ScoreSection, JourneySection, TaskSection, MessageSection, ActionSection,
            RoutingQueueSection, ControlSection, SendCountSection, ErasureSection, WorkItemSection,
            AssignmentSection, TaskChangeSection, EngagementSection, DraftSection, NextDueSection, TallySection,
            NoteSection, PlaybookTallySection, TaskTallySection, ParkedIntentSection):
    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to `url` (`sqlite:///path/to/file.db`, `sqlite://` in memory, or
        `postgresql+psycopg://…`) and bring its schema up to date.

        With `migrate=False` (production processes: `playbook worker`, `playbook api`) the schema
        is left alone and an outdated one is refused: `playbook migrate` upgrades it.
        Raises `StoreUnavailable`, naming the database, when it cannot be opened or migrated.
        """
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise StoreUnavailable(f"{url!r} is not a database URL such as sqlite:///state/store.db") from error
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise StoreUnavailable(f"cannot open the store at {shown}: the store runs on SQLite "
                                   "(sqlite:///state/store.db) or PostgreSQL (postgresql+psycopg://...), "
                                   f"not {parsed.get_backend_name()!r}")
        try:
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            database = Database(url)
        except (ArgumentError, ImportError, OSError) as error:
            raise StoreUnavailable(f"cannot open the store at {shown}: {error}") from error
        try:
            if migrate:
                upgrade_to_head(database)
            elif current_revision(database) != head_revision(url):
                database.dispose()
                raise StoreUnavailable(f"the store at {shown} has an outdated schema: run `playbook migrate` first")
        except SQLAlchemyError as error:
            database.dispose()
            raise StoreUnavailable(f"cannot open the store at {shown}: {error.__cause__ or error}") from error
        return cls(database)

    @property
    def database(self) -> Database:
        """The connection this store runs on (another `Store` over it shares its pool and locks)."""
        return self._db

    @property
    def url(self) -> str:
        return self._db.url

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def schema_is_current(self) -> bool:
        """True when the database is at the newest migration this package ships."""
        return current_revision(self._db) == head_revision(self._db.url)

    def close(self) -> None:
        self._db.dispose()
