"""Account notes: what a CSM writes about an account ("called Bill, renewal is on track").

A note is plain text, at most `MAX_NOTE_CHARS` characters (longer text is refused, not cut: the
caller says so), with who wrote it (an email or a name, optional) and when. Notes are never
edited; the account's page lists them newest first and its story (`playbook why`) tells them in
time order. Erasing the account (`playbook forget`) deletes them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from engine.store.database import Database
from engine.store.schema import account_notes, accounts

__all__ = ["MAX_AUTHOR_CHARS", "MAX_NOTE_CHARS", "NoAccount", "Note", "NoteSection", "NoteTooLong", "clean_note"]

MAX_NOTE_CHARS = 2000
MAX_AUTHOR_CHARS = 320


class Note(BaseModel):
    id: int
    account: str
    text: str
    author: str | None
    at: datetime


class NoteTooLong(ValueError):
    """The text is empty or longer than the bound; the message says which."""


class NoAccount(LookupError):
    """The store has no such account: a note needs one."""


def clean_note(text: str, author: str | None) -> tuple[str, str | None]:
    """The note's text and author as stored: trimmed; `NoteTooLong` when empty or too long."""
    text = text.strip()
    if not text:
        raise NoteTooLong("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise NoteTooLong(f"the note has {len(text)} characters; at most {MAX_NOTE_CHARS} are kept")
    author = (author or "").strip() or None
    if author is not None and len(author) > MAX_AUTHOR_CHARS:
        raise NoteTooLong(f"the author has {len(author)} characters; at most {MAX_AUTHOR_CHARS}")
    return text, author


class NoteSection:
    _db: Database

    def add_note(self, account: str, text: str, author: str | None, at: datetime) -> Note:
        """Store a note (see `clean_note` for what is refused) and answer it with its id;
        `NoAccount` when the store has no such account."""
        text, author = clean_note(text, author)
        with self._db.write(account) as conn:
            if conn.execute(select(accounts.c.id).where(accounts.c.id == account)).first() is None:
                raise NoAccount(f"no account '{account}'")
            seq = conn.execute(account_notes.insert().values(account=account, text=text, author=author,
                                                             at=at)).inserted_primary_key
        assert seq is not None
        return Note(id=int(seq[0]), account=account, text=text, author=author, at=at)

    def notes(self, account: str, *, until: datetime | None = None, newest: int | None = None) -> list[Note]:
        """The account's notes, oldest first: those written by `until`; only the `newest` N when given."""
        query = select(account_notes).where(account_notes.c.account == account)
        if until is not None:
            query = query.where(account_notes.c.at <= until)
        query = query.order_by(account_notes.c.at.desc(), account_notes.c.seq.desc())
        if newest is not None:
            query = query.limit(newest)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [Note(id=row.seq, account=row.account, text=row.text, author=row.author, at=row.at)
                for row in reversed(rows)]
