"""The store: SQLAlchemy 2 over SQLite or PostgreSQL, schema managed by Alembic."""

from engine.store.drafts import DraftDecided, DraftNotFound
from engine.store.rows import JourneyRow, JourneyStatus, MessageRow, NewChange
from engine.store.store import Store, StoreUnavailable
from engine.store.task_changes import TaskClosed, TaskNotFound
from engine.store.tasks import StepNotFound, TaskKeyConflict

__all__ = ["DraftDecided", "DraftNotFound",
           "JourneyRow", "JourneyStatus", "MessageRow", "NewChange", "Store", "StepNotFound", "StoreUnavailable",
           "TaskClosed", "TaskKeyConflict", "TaskNotFound"]
