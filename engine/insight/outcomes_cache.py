"""The ledger of each store kept in the process, and the figures computed on it.

`ledger(store, score)` reads the history (`engine.insight.outcomes_ledger`) again only when the
store has changed since the last reading (its newest trait change, event, score, journey or logged
action differs), and `figures` remembers what was computed on a ledger, so a page read again costs
a lookup. Pages and the API may take a ledger up to a minute old (`stale_ok`): see `ledger`.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from engine.insight import outcomes_ledger
from engine.insight.outcomes_ledger import MARK_SQL, Ledger
from engine.store.driver import Driver

if TYPE_CHECKING:
    from engine.store import Store
    from engine.store.database import Database

__all__ = ["FIRST_READ_SECONDS", "LARGE_ACCOUNTS", "STALE_SECONDS", "HistoryNotReady", "figures", "ledger"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

STALE_SECONDS = 60.0  # `stale_ok` readers take a ledger this old without asking the store
FIRST_READ_SECONDS = 5.0  # how long a `stale_ok` reader waits for the first reading of a small history
LARGE_ACCOUNTS = 5_000  # a larger history is read, and its figures computed, in the background for pages:
LARGE_WAIT_SECONDS = 0.0  # a `stale_ok` reader waits this long for them, then is told to ask again
MEMO_SIZE = 32
RECOMPUTE_AT_MOST = 6  # figures a refresh computes on the new ledger before putting it in place:
RECOMPUTE_ASKED_WITHIN = 600.0  # the ones asked most lately, within these seconds

_kept: weakref.WeakKeyDictionary[Database, Ledger] = weakref.WeakKeyDictionary()
_readers: weakref.WeakKeyDictionary[Database, threading.Thread] = weakref.WeakKeyDictionary()
_computing: dict[tuple[int, tuple[Any, ...]], threading.Thread] = {}  # (ledger, key) -> the thread computing it
_failed: set[tuple[int, tuple[Any, ...]]] = set()  # computed in the background and failed: computed by the reader
_lock = threading.Lock()


class HistoryNotReady(Exception):
    """The history is being read for the first time and takes longer than a page may wait."""


def _current(store: Store, score: str | None, *, recompute: bool = False) -> Ledger:
    """The kept ledger if the store has not changed since it was read, else a new one (with the
    kept one's figures computed again on it first, when `recompute`)."""
    with store.database.read() as conn:
        driver = Driver(conn)
        mark = tuple(driver.execute(MARK_SQL).fetchone())
        with _lock:
            kept = _kept.get(store.database)
        if kept is not None and kept.mark == mark and kept.score == score:
            kept.read_at = time.monotonic()
            return kept
        book = outcomes_ledger.read_ledger(driver, score, mark)
    if recompute and kept is not None and kept.score == score:
        now = time.monotonic()
        asked = sorted(((used, key, compute) for key, (compute, _, used) in list(kept.memo.items())
                        if now - used <= RECOMPUTE_ASKED_WITHIN), key=lambda item: -item[0])
        for used, key, compute in asked[:RECOMPUTE_AT_MOST]:  # the others are computed when asked again
            book.memo[key] = (compute, compute(book), used)
    with _lock:
        _kept[store.database] = book
    return book


def _refresh(store: Store, score: str | None) -> None:
    try:
        _current(store, score, recompute=True)
    except Exception:  # the next reader meets the error itself (see `ledger`)
        logger.exception("reading the retention history failed")


def _reader(store: Store, score: str | None) -> threading.Thread:
    """The thread reading the store's history, started unless one runs. Called holding `_lock`."""
    running = _readers.get(store.database)
    if running is not None and running.is_alive():
        return running
    thread = threading.Thread(target=_refresh, args=(store, score), daemon=True, name="outcomes-ledger")
    _readers[store.database] = thread
    thread.start()
    return thread


def ledger(store: Store, score: str | None, *, stale_ok: bool = False) -> Ledger:
    """The store's history as a `Ledger`, read again only when the store has changed since.

    With `stale_ok` (pages and the API), a ledger read less than `STALE_SECONDS` ago is taken as
    it is, and an older one is answered at once while a thread reads the store again and computes
    the figures asked of the old ledger on the new one, before putting it in place: once a ledger
    exists, a page waits neither for a rebuild nor for figures asked before. The first reading
    is waited for `FIRST_READ_SECONDS` (`LARGE_WAIT_SECONDS` when the store has more than
    `LARGE_ACCOUNTS` accounts); longer, `HistoryNotReady` is raised while it goes on."""
    if not stale_ok:
        return _current(store, score)
    with _lock:
        kept = _kept.get(store.database)
        if kept is not None and kept.score == score:
            if time.monotonic() - kept.read_at >= STALE_SECONDS:
                _reader(store, score)
            return kept
        thread = _reader(store, score)
    thread.join(LARGE_WAIT_SECONDS if _large(store) else FIRST_READ_SECONDS)
    with _lock:
        kept = _kept.get(store.database)
    if kept is not None and kept.score == score:
        return kept
    if thread.is_alive():
        raise HistoryNotReady("the history is being read for the first time since the engine started: "
                              "ask again in a few seconds")
    return _current(store, score)  # the reading failed: once more here, where its error is seen


def _large(store: Store) -> bool:
    """Whether the store holds more than `LARGE_ACCOUNTS` accounts (one count of an index)."""
    with store.database.read() as conn:
        found = Driver(conn).execute(f"SELECT count(*) FROM (SELECT 1 FROM accounts LIMIT {LARGE_ACCOUNTS + 1}) AS a")
        return int(found.fetchone()[0]) > LARGE_ACCOUNTS


def _compute_apart(book: Ledger, key: tuple[Any, ...], compute: Callable[[Ledger], Any]) -> None:
    try:
        value = compute(book)
    except Exception:  # the next reader computes it itself and meets the error
        logger.exception("computing the retention figures %r failed", key[0])
        with _lock:
            _failed.add((id(book), key))
        return
    finally:
        with _lock:
            _computing.pop((id(book), key), None)
    with _lock:
        if len(book.memo) >= MEMO_SIZE:
            book.memo.clear()
        book.memo[key] = (compute, value, time.monotonic())


def figures(book: Ledger, key: tuple[Any, ...], compute: Callable[[Ledger], T], *, stale_ok: bool = False) -> T:
    """`compute(book)`, remembered with the ledger under `key`: the same figures asked again cost a
    lookup. `compute` must read the moment it needs from the ledger (`as_of`) or from `key`.

    With `stale_ok` (pages and the API) on a ledger of more than `LARGE_ACCOUNTS` accounts, figures
    not computed yet are computed in a thread: the reader waits `LARGE_WAIT_SECONDS` for them, then
    `HistoryNotReady` is raised while the thread goes on."""
    with _lock:
        kept = book.memo.get(key)
        if kept is not None:
            book.memo[key] = (kept[0], kept[1], time.monotonic())
            return cast(T, kept[1])
        apart = stale_ok and len(book.accounts) > LARGE_ACCOUNTS and (id(book), key) not in _failed
        thread = _computing.get((id(book), key)) if apart else None
        if apart and thread is None:
            thread = threading.Thread(target=_compute_apart, args=(book, key, compute), daemon=True,
                                      name="outcomes-figures")
            _computing[(id(book), key)] = thread
            thread.start()
    if thread is not None:
        thread.join(LARGE_WAIT_SECONDS)
        with _lock:
            kept = book.memo.get(key)
            failed = (id(book), key) in _failed
        if kept is not None:
            return cast(T, kept[1])
        if not failed:
            raise HistoryNotReady("the figures are being computed for the first time since the history was "
                                  "read: ask again in a few seconds")
    with _lock:
        _failed.discard((id(book), key))
    value = compute(book)
    with _lock:
        if len(book.memo) >= MEMO_SIZE:
            book.memo.clear()
        book.memo[key] = (compute, value, time.monotonic())
    return value
