"""The account list a page at a time: search, sort, filters and totals, read from the account cards
(`engine.store.account_cards`), each read served by an index.

- sorts: `name`, `arr`, `renewal`, `score`, each ascending or, with a leading `-`, descending; an
  account without the value (no ARR, no renewal date, unscored) comes after those with one, by id;
- filters: `band` (of the primary score), `csm` (the CSM's address), `segment`, `q` (a prefix of
  the name, in any case, or of the id);
- the page: `limit` accounts (at most 200) after `cursor` (`engine.read_model.cursors`);
- each account's band now and 7 and 30 days ago (the score history), with the trend between;
- totals over the filters but the band: accounts and ARR by band, and the ARR at risk: accounts in a
  band at risk (every band but the best of the primary score: red and yellow) renewing within 90 days.
  Over every account (no CSM, segment or prefix), the accounts and ARR by band are the totals kept
  on write (`engine.store.card_totals`), a few rows however many accounts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, and_, func, or_, select, text, tuple_

from dsl import ir
from engine.read_model.cursors import BadQuery, check_limit, decode_cursor, encode_cursor
from engine.read_model.scores import primary_score
from engine.store import Store
from engine.store.card_totals import band_totals, settle
from engine.store.schema import account_cards, score_history

__all__ = ["AT_RISK_DAYS", "SORTS", "AccountItem", "AccountPage", "AccountTotals", "BandTotal", "CsmOut",
           "account_page", "account_totals", "band_order", "csm_list", "csm_name"]

AT_RISK_DAYS = 90
DEFAULT_BANDS = ("red", "yellow", "green")
MAX_CSMS = 1000
SORTS = ("name", "-name", "arr", "-arr", "renewal", "-renewal", "score", "-score")
_COLUMNS = {"name": account_cards.c.name_key, "arr": account_cards.c.arr, "renewal": account_cards.c.renewal,
            "score": account_cards.c.score}
_TYPES: dict[str, tuple[type, ...]] = {"name": (str,), "arr": (float,), "renewal": (str,), "score": (float,)}
Trend = Literal["up", "down", "same"]


class AccountItem(BaseModel):
    id: str
    name: str  # the name field, else the id
    segment: str | None
    arr: float | None
    renewal: date | None
    csm: str | None  # the CSM as people read them: the owner's name, else the address's local part
    csm_email: str | None  # what `csm=` filters by
    score_name: str | None
    score: float | None
    band: str | None
    band_7d: str | None  # the band 7 days ago
    band_30d: str | None
    trend_7d: Trend | None  # the band now against 7 days ago: up (a better band), down, same
    trend_30d: Trend | None
    scored_at: datetime | None


class BandTotal(BaseModel):
    band: str | None  # None: unscored
    accounts: int
    arr: float


class AccountTotals(BaseModel):
    accounts: int  # every account the filters keep
    by_band: list[BandTotal]  # over the filters but the band: the worst band first, unscored last
    at_risk_bands: list[str]
    arr_at_risk: float  # ARR of the accounts in a band at risk renewing within `renewing_within_days`
    accounts_at_risk: int
    renewing_within_days: int = AT_RISK_DAYS


class AccountPage(BaseModel):
    items: list[AccountItem]
    next_cursor: str | None  # pass it back as `cursor` for the next page; None on the last page
    totals: AccountTotals | None = None


class CsmOut(BaseModel):
    email: str
    name: str | None


def band_order(bundle: ir.Bundle | None) -> list[str]:
    """The primary score's bands, the worst first (without playbooks: red, yellow, green)."""
    if bundle is None:
        return list(DEFAULT_BANDS)
    score = primary_score(bundle)
    model = bundle.scores.get(score) if score else None
    return [band.name for band in sorted(model.bands, key=lambda band: band.low)] if model is not None else []


def _unindexed(dialect: str, column: Any) -> Any:
    """`column` as SQLite's planner cannot use an index on, to steer it to another index."""
    if dialect != "sqlite":
        return column
    return column + 0 if column.name in ("arr", "score") else column.concat("")


def _filtered(query: Select[Any], dialect: str, *, band: str | None = None, csm: str | None = None,
              segment: str | None = None, q: str | None = None, sorted_page: bool = False) -> Select[Any]:
    """`sorted_page`: a page read in the order of a sort's index, which a segment (a few values,
    each of many accounts) only filters: the sort's index finds a page's accounts in a few steps,
    the segment's would find all of that segment's first."""
    c = account_cards.c
    if band is not None:
        query = query.where(c.band == band)
    if csm is not None:
        query = query.where(c.csm_email == csm.strip().lower())
    if segment is not None:
        segment_column = _unindexed(dialect, c.segment) if sorted_page and band is None and csm is None else c.segment
        query = query.where(segment_column == segment)
    if q:
        if dialect == "sqlite":  # binary order: a prefix is a range of the index
            lowered = q.lower()
            query = query.where(or_(and_(c.name_key >= lowered, c.name_key < lowered + "\U0010ffff"),
                                    and_(c.account >= q, c.account < q + "\U0010ffff")))
        else:
            query = query.where(or_(c.name_key.startswith(q.lower(), autoescape=True),
                                    c.account.startswith(q, autoescape=True)))
    return query


def _check(sort: str, q: str | None) -> None:
    if sort not in SORTS:
        raise BadQuery(f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
    if q is not None and len(q) > 200:
        raise BadQuery(f"q: a prefix of a name or id, at most 200 characters (got {len(q)})")


def account_page(store: Store, bundle: ir.Bundle | None, now: datetime, *, sort: str = "name",
                 cursor: str | None = None, limit: int | None = None, band: str | None = None,
                 csm: str | None = None, segment: str | None = None, q: str | None = None,
                 totals: bool = False) -> AccountPage:
    """One page of accounts (see the module's docstring); `BadQuery` for a bad sort, limit or cursor."""
    _check(sort, q)
    size = check_limit(limit)
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    column = _COLUMNS[key]
    c = account_cards.c
    tag = f"accounts:{sort}"
    phase, value, after = 0, None, None
    if cursor is not None:
        phase, value, after = decode_cursor(cursor, tag, (int, (*_TYPES[key], type(None)), str))
        if phase not in (0, 1) or (phase == 0) != (value is not None):
            raise BadQuery("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
    rows: list[Any] = []
    if totals:
        settle(store.database)
    with store.database.read() as conn:
        filters = {"band": band, "csm": csm, "segment": segment, "q": q}
        base = _filtered(select(account_cards), store.dialect, sorted_page=True, **filters)
        if band is not None and bundle is not None and primary_score(bundle) is not None:
            base = base.where(c.score_name == primary_score(bundle))
        if q and key != "name":  # a prefix finds few accounts: by its index, then sorted
            column = _unindexed(store.dialect, column)
        if phase == 0:
            query = base.where(column.is_not(None))
            if value is not None:
                position = tuple_(column, c.account)
                query = query.where(position < tuple_(value, after) if descending else position > tuple_(value, after))
            ordering = (column.desc(), c.account.desc()) if descending else (column.asc(), c.account.asc())
            rows = list(conn.execute(query.order_by(*ordering).limit(size + 1)))
        if len(rows) <= size and key != "name":  # then the accounts without the value, by id
            query = base.where(column.is_(None))
            if phase == 1 and after is not None:
                query = query.where(c.account > after)
            rows += list(conn.execute(query.order_by(c.account).limit(size + 1 - len(rows))))
        bands = _bands_then(conn, [row.account for row in rows[:size]], now)
        found_totals = account_totals(store, bundle, now, conn=conn, **filters) if totals else None
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        last_value = getattr(last, _COLUMNS[key].name)
        next_cursor = encode_cursor(tag, [0 if last_value is not None else 1, last_value, last.account])
    order = band_order(bundle)
    primary = primary_score(bundle) if bundle is not None else None
    items = [_item(row, bands.get(row.account, (None, None)), order, primary) for row in rows]
    return AccountPage(items=items, next_cursor=next_cursor, totals=found_totals)


def _trend(now: str | None, then: str | None, order: list[str]) -> Trend | None:
    if now is None or then is None or now not in order or then not in order:
        return None
    delta = order.index(now) - order.index(then)
    return "up" if delta > 0 else "down" if delta < 0 else "same"


def _item(row: Any, then: tuple[str | None, str | None], order: list[str], primary: str | None) -> AccountItem:
    scored = primary is None or row.score_name == primary  # a card holding another score: unscored in this one
    band = row.band if scored else None
    return AccountItem(id=row.account, name=row.name or row.account, segment=row.segment, arr=row.arr,
                       renewal=date.fromisoformat(row.renewal) if row.renewal else None, csm=row.csm_name,
                       csm_email=row.csm_email, score_name=row.score_name if scored else None,
                       score=row.score if scored else None, band=band,
                       band_7d=then[0] if scored else None, band_30d=then[1] if scored else None,
                       trend_7d=_trend(band, then[0], order), trend_30d=_trend(band, then[1], order),
                       scored_at=row.scored_at if scored else None)


def _band_at(moment: datetime) -> Any:
    s = score_history.c
    return (select(s.band).where(s.account == account_cards.c.account, s.score == account_cards.c.score_name,
                                 s.at <= moment)
            .order_by(s.at.desc(), s.id.desc()).limit(1).scalar_subquery())


def _bands_then(conn: Any, ids: list[str], now: datetime) -> dict[str, tuple[str | None, str | None]]:
    """Each account's band 7 and 30 days before `now`: two lookups of the score history's index per account."""
    if not ids:
        return {}
    query = select(account_cards.c.account, _band_at(now - timedelta(days=7)).label("b7"),
                   _band_at(now - timedelta(days=30)).label("b30")).where(account_cards.c.account.in_(ids))
    return {row.account: (row.b7, row.b30) for row in conn.execute(query)}


def account_totals(store: Store, bundle: ir.Bundle | None, now: datetime, *, conn: Any = None,
                   band: str | None = None, csm: str | None = None, segment: str | None = None,
                   q: str | None = None) -> AccountTotals:
    """The totals of the accounts the filters keep (see the module's docstring): aggregates over an index."""
    c = account_cards.c
    order = band_order(bundle)
    at_risk = order[:-1] if len(order) > 1 else []
    if conn is None:
        settle(store.database)
        with store.database.read() as fresh:
            return account_totals(store, bundle, now, conn=fresh, band=band, csm=csm, segment=segment, q=q)
    if csm is None and segment is None and not q:  # every account: the totals kept on write
        by_band = {name: BandTotal(band=name, accounts=n, arr=arr) for name, (n, arr) in band_totals(conn).items()}
    else:
        grouped = _filtered(select(c.band, func.count().label("n"),
                                   func.coalesce(func.sum(c.arr), 0.0).label("arr")),
                            store.dialect, csm=csm, segment=segment, q=q).group_by(c.band)
        by_band = {row.band: BandTotal(band=row.band, accounts=int(row.n), arr=float(row.arr))
                   for row in conn.execute(grouped)}
    horizon = (now + timedelta(days=AT_RISK_DAYS)).date().isoformat()
    risky = [name for name in at_risk if band in (None, name)]
    risk = _filtered(select(func.count().label("n"), func.coalesce(func.sum(c.arr), 0.0).label("arr")),
                     store.dialect, csm=csm, segment=segment, q=q).where(
        (_unindexed(store.dialect, c.band) if q else c.band).in_(risky),  # a prefix finds fewer accounts
        c.renewal >= now.date().isoformat(), c.renewal <= horizon)
    row = conn.execute(risk).one() if risky else None
    known = [name for name in order if name in by_band] + sorted(
        name for name in by_band if name is not None and name not in order)
    listed = [by_band[name] for name in known] + ([by_band[None]] if None in by_band else [])
    matching = sum(total.accounts for total in listed if band in (None, total.band))
    return AccountTotals(accounts=matching, by_band=listed, at_risk_bands=at_risk,
                         arr_at_risk=float(row.arr) if row is not None else 0.0,
                         accounts_at_risk=int(row.n) if row is not None else 0)


def csm_name(conn: Any, email: str) -> str | None:
    """The name of a CSM as their accounts give it (one lookup of the CSM's index)."""
    query = (select(account_cards.c.csm_name).where(account_cards.c.csm_email == email)
             .order_by(account_cards.c.csm_name.desc()).limit(1))
    name = conn.execute(query).scalar()
    return str(name) if name else None


_CSMS = text("""
WITH RECURSIVE csms(email) AS (
    SELECT * FROM (SELECT csm_email FROM account_cards WHERE csm_email IS NOT NULL ORDER BY csm_email LIMIT 1) AS first
    UNION ALL
    SELECT (SELECT c.csm_email FROM account_cards AS c WHERE c.csm_email > csms.email ORDER BY c.csm_email LIMIT 1)
    FROM csms WHERE csms.email IS NOT NULL
)
SELECT email, (SELECT c.csm_name FROM account_cards AS c WHERE c.csm_email = csms.email
               ORDER BY c.csm_name DESC LIMIT 1) AS name
FROM csms WHERE email IS NOT NULL LIMIT :most
""")


def csm_list(store: Store) -> list[CsmOut]:
    """Every CSM of an account, by name: what the account list filters by. One statement that
    steps through the CSMs' index from one address to the next, however many accounts each has;
    1,000 at most."""
    with store.database.read() as conn:
        found = [CsmOut(email=row.email, name=row.name or None) for row in conn.execute(_CSMS, {"most": MAX_CSMS})]
    return sorted(found, key=lambda csm: ((csm.name or csm.email).lower(), csm.email))
