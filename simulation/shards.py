"""Splitting a simulation by account, so that a large timeline uses every core.

Accounts go their own ways: everything routing reads or writes, and everything a journey reads,
belongs to one account (its fields, events, scores, condition states, tasks, journeys and its
frequency cap). One thing reaches across accounts: the suppression list, by address. An
`unsubscribed` or `bounced` event puts an address on it, and every account that sends to that
address is affected from then on.

So a timeline splits into *groups* of accounts that cannot affect each other: every account is
a group of its own, except that an account with an `unsubscribed` or `bounced` event is grouped
with every account whose lines mention the address it suppresses (any line, any field, without
case: a generous reading that can only group too much, never too little). If a suppressed address
appears in the playbooks or templates themselves, nothing is split.

Groups are dealt to shards by their number of lines (largest first, to the lightest shard), each
shard runs in its own process with its own time-skipping server and store, and the actions are
merged in the order a single process gives them: by time, then account, then order of logging.
The result is the same whatever the number of shards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence

from dsl import ir

__all__ = ["LINES_PER_SHARD", "MAX_AUTO_SHARDS", "SHARDS_PER_CORE", "account_groups", "auto_shards", "deal"]

# A shard costs a process and a test server (about two seconds to start): worth it from this
# many timeline lines per shard.
LINES_PER_SHARD = 2_000
# Shards per core: a simulating process waits on its test server about a third of the time, so
# two per core keep the cores busy (measured on 2 cores, 1,000 accounts: 1 process 160 s, 2: 96 s,
# 4: 78-82 s, 6 or 8: 101 s as the processes' own costs add up).
SHARDS_PER_CORE = 2
MAX_AUTO_SHARDS = 8


def auto_shards(lines: int, cores: int | None = None) -> int:
    """How many shards a timeline of `lines` lines gets by default: two per core, at most
    `MAX_AUTO_SHARDS`, and no more than one per `LINES_PER_SHARD` lines."""
    cores = cores if cores is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                             else os.cpu_count() or 1)
    return max(1, min(SHARDS_PER_CORE * cores, MAX_AUTO_SHARDS, lines // LINES_PER_SHARD))


def _address(raw: str) -> str | None:
    """The address an `unsubscribed` or `bounced` line suppresses (as the router reads it)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    email = data.get("email") if isinstance(data, dict) else None
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def account_groups(lines: dict[str, list[str]], reaching: dict[str, list[str]],
                   bundles: Iterable[ir.Bundle]) -> list[list[str]]:
    """Groups of accounts that cannot affect each other, each sorted, in order of first account.

    `lines`: each account's raw timeline lines; `reaching`: each account's `unsubscribed` and
    `bounced` lines; `bundles`: every version of the playbooks the simulation runs.
    """
    accounts = sorted(lines)
    addresses: dict[str, set[str]] = {}  # suppressed address -> accounts that suppress it
    for account, raws in reaching.items():
        for raw in raws:
            address = _address(raw)
            if address is not None:
                addresses.setdefault(address, set()).add(account)
    if not addresses:
        return [[account] for account in accounts]
    sources = [bundle.model_dump_json().lower() for bundle in bundles]
    if any(address in source for address in addresses for source in sources):
        return [accounts]

    parent = {account: account for account in accounts}

    def root(account: str) -> str:
        while parent[account] != account:
            parent[account] = parent[parent[account]]
            account = parent[account]
        return account

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for account in accounts:
        text = "\n".join(lines[account]).lower()
        for address, suppressors in addresses.items():
            if address in text:
                for suppressor in suppressors:
                    join(account, suppressor)
    for suppressors in addresses.values():
        first, *rest = sorted(suppressors)
        for other in rest:
            join(first, other)
    grouped: dict[str, list[str]] = {}
    for account in accounts:
        grouped.setdefault(root(account), []).append(account)
    return sorted(grouped.values(), key=lambda group: group[0])


def deal(groups: Sequence[list[str]], weight: dict[str, int], shards: int) -> list[list[str]]:
    """Deal groups to at most `shards` shards, heaviest first to the lightest shard; the
    non-empty shards, each sorted. Deterministic: ties go by account name."""
    bins: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, shards))]
    for group in sorted(groups, key=lambda g: (-sum(weight.get(a, 0) for a in g), g[0])):
        index = min(range(len(bins)), key=lambda i: (bins[i][0], i))
        load, members = bins[index]
        bins[index] = (load + sum(weight.get(a, 0) for a in group), members + group)
    return [sorted(members) for _, members in bins if members]
