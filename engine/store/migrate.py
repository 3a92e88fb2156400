"""Schema migrations, run programmatically with the Alembic scripts shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.store.database import Database

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "upgrade_to_head"]

MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_LOCK = "playbook schema migration"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(database: Database) -> None:
    """Bring the schema up to date; concurrent callers wait for each other (write lock)."""
    config = alembic_config(database.url)
    with database.write(SCHEMA_LOCK) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
