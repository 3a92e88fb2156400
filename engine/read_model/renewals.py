"""The accounts of a band renewing soonest: what the home page lists under "red accounts renewing
within 90 days".

One range of the account cards' `(band, renewal, arr)` index (`engine.store.account_cards`): the
accounts of the band whose renewal date falls between today and the horizon, the soonest first,
then by ARR (the largest first) and id. Renewals already past are left out, however many there are.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select

from engine.store import Store
from engine.store.schema import account_cards

__all__ = ["Renewal", "renewing_soon"]


class Renewal(BaseModel):
    id: str
    name: str
    arr: float | None
    renewal: date
    csm: str | None  # the CSM as people read them
    csm_email: str | None
    score: float | None
    band: str | None


def renewing_soon(store: Store, band: str, today: date, *, days: int = 90, limit: int = 10) -> list[Renewal]:
    """At most `limit` accounts of `band` renewing from `today` to `days` later, the soonest first."""
    c = account_cards.c
    query = (select(c.account, c.name, c.arr, c.renewal, c.csm_name, c.csm_email, c.score, c.band)
             .where(c.band == band, c.renewal >= today.isoformat(),
                    c.renewal <= (today + timedelta(days=days)).isoformat())
             .order_by(c.renewal, c.arr.desc(), c.account).limit(max(1, min(limit, 200))))
    with store.database.read() as conn:
        rows = conn.execute(query).all()
    return [Renewal(id=row.account, name=row.name, arr=row.arr, renewal=date.fromisoformat(row.renewal),
                    csm=row.csm_name, csm_email=row.csm_email, score=row.score, band=row.band) for row in rows]
