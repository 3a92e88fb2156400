"""Where a plugin may send a request: the outbound policy of `webhook.post` and `slack.notify`.

A playbook's author or an ingested value must not turn the worker into a way into the network it
runs in. Before each request:

- the scheme is http or https, and the URL names a host;
- a host on the allow-list (`PLAYBOOK_WEBHOOK_ALLOWED_HOSTS`: `hooks.example.com`, or
  `*.example.com` for every name under it) is allowed as it is, wherever it resolves: the
  operator named it;
- a URL that is not written literally in the playbook (taken from an account field, or rendered
  from a template) must name an allowed host;
- any other host is resolved, and every address it resolves to must be public: loopback,
  private (RFC 1918, unique local), link-local (with the cloud metadata address 169.254.169.254),
  shared (100.64/10), multicast, reserved and unspecified addresses are refused, IPv4-mapped IPv6
  included. The request then goes to the address that was checked (the name is kept for the Host
  header and TLS), so a second resolution cannot point it elsewhere.

Redirects are never followed (a 3xx is a refusal), and proxies from the environment are not used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from engine.settings import Settings

__all__ = ["EgressPolicy", "EgressRefused", "Target"]


class EgressRefused(ValueError):
    """The request would go where the outbound policy does not allow: not sent, not retried."""


@dataclass(frozen=True)
class Target:
    """Where a checked request goes: the URL to connect to, and the name it was written with."""

    url: httpx.URL  # the checked address in place of the name (or the URL itself for an allowed host)
    host_header: str | None  # the name and port, for the Host header; None when `url` names the host
    sni_hostname: str | None  # the name TLS verifies the certificate against


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)


@dataclass(frozen=True)
class EgressPolicy:
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls(allowed_hosts=tuple(host.strip().lower() for host in settings.webhook_allowed_hosts
                                       if host.strip()))

    def host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        for allowed in self.allowed_hosts:
            if allowed.startswith("*.") and name.endswith(allowed[1:]) and len(name) > len(allowed) - 1:
                return True
            if name == allowed:
                return True
        return False

    async def target(self, url: str, *, from_account_data: bool) -> Target:
        """Where `url` may be sent, or `EgressRefused` with the reason."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as error:
            raise EgressRefused(f"not a URL: {url!r} ({error})") from error
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise EgressRefused(f"the URL must be http:// or https:// with a host: {url!r}")
        host = parsed.host
        if self.host_allowed(host):
            return Target(url=parsed, host_header=None, sni_hostname=None)
        if from_account_data:
            raise EgressRefused(f"{host} is not on the allowed hosts (PLAYBOOK_WEBHOOK_ALLOWED_HOSTS): a URL taken "
                                "from account data or a template may only name an allowed host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = await _checked_address(host, port)
        shown = f"[{address}]" if ":" in address else address
        netloc = host if parsed.port is None else f"{host}:{parsed.port}"
        return Target(url=parsed.copy_with(host=shown.strip("[]")), host_header=netloc,
                      sni_hostname=host if parsed.scheme == "https" else None)


async def _checked_address(host: str, port: int) -> str:
    """The first address `host` resolves to, when every one of them is public."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        if not _public(literal):
            raise EgressRefused(f"{host} is not a public address (loopback, private, link-local or metadata)")
        return str(literal)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:  # perhaps for a moment: the caller tries again
        raise ConnectionError(f"{host} does not resolve: {error}") from error
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise EgressRefused(f"{host} does not resolve")
    for text in addresses:
        if not _public(ipaddress.ip_address(text.split("%")[0])):
            raise EgressRefused(f"{host} resolves to {text}, which is not a public address (loopback, private, "
                                "link-local or metadata)")
    return addresses[0]
