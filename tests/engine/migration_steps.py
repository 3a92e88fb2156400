"""Steps of the store migration tests: move a database to a revision, and write a time as that
database's column holds it before the migrations under test."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import create_engine

from engine.store.migrate import alembic_config

__all__ = ["migrate", "moment"]


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def moment(url: str, value: datetime) -> object:
    return value.replace(tzinfo=None).isoformat(" ", "microseconds") if url.startswith("sqlite") else value
