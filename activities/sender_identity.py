"""Who an email says it is from: the engine's own address, or an owner of the account (`send email X
from csm`) when the policy allows that owner's address.

Owners arrive as account traits, so anyone who may send traits could otherwise make the relay send
as any address at all (and the mail would fail DMARC besides). An owner's address is used as the
From only when its domain is one of the configured sender domains (`PLAYBOOK_SENDER_DOMAINS`:
`vendor.example`, `*.vendor.example`, or a whole address), the domains the relay signs for; any
other owner's address goes in Reply-To, with the engine's own From. An address that is not one
plain address (a line break, two `@`, a display name smuggled in) is not used at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from activities.smtp_mailer import plain_display_name

__all__ = ["SenderIdentity", "sender_identity", "sender_allowed"]


@dataclass(frozen=True)
class SenderIdentity:
    """The owner an email goes out from: as its From (`address`) or as its Reply-To (`reply_to`)."""

    name: str
    address: str | None = None  # the From, when the sender domains allow it
    reply_to: str | None = None  # else the owner, to answer to


def sender_allowed(address: str, allowed: Iterable[str]) -> bool:
    """Whether `address` may be a From: its domain (or the address itself) is allowed."""
    domain = address.rpartition("@")[2].lower()
    for entry in (entry.strip().lower() for entry in allowed):
        if "@" in entry and entry == address.lower():
            return True
        if entry.startswith("*.") and domain.endswith(entry[1:]):
            return True
        if entry == domain:
            return True
    return False


def _plain_address(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 254 or any(char in value for char in "\r\n\t <>,;\"()"):
        return None
    name, address = parseaddr(value)
    if name or address != value or address.count("@") != 1:
        return None
    local, _, domain = address.partition("@")
    return address if local and "." in domain else None


def sender_identity(fields: Mapping[str, Any], path: Iterable[str], allowed: Iterable[str]) -> SenderIdentity | None:
    """The owner at `path` in the account's fields as a sender; None when it has no usable address."""
    owner: Any = fields
    for part in path:
        owner = owner.get(part) if isinstance(owner, Mapping) else None
    if not isinstance(owner, Mapping):
        return None
    address = _plain_address(owner.get("email"))
    if address is None:
        return None
    name = plain_display_name(str(owner.get("name") or ""))
    if sender_allowed(address, allowed):
        return SenderIdentity(name=name, address=address)
    return SenderIdentity(name=name, reply_to=address)
