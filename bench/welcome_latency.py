"""From a `signed` event to the welcome email at the SMTP server, on the dev stack.

    .venv/bin/python bench/welcome_latency.py [--accounts 1000] [--rate 5] [--burst 1000]

Starts `playbook dev` (the standard playbooks) as a subprocess on free ports with a temporary
state folder; its SMTP sink writes each message's arrival time (`received_at`, taken when the
message is accepted) to `outbox/index.jsonl`. The accounts (segment smb, a contact with a mail
address of its own, a time zone where it is early afternoon now, so quiet hours never hold the
welcome back) are sent first, in one batch. Then:

- steady: one `signed` event per request to `POST /v1/events` at `--rate` per second (the
  caller picks it: half the journey throughput `journeys_vs_bare.py` measured), `--accounts`
  of them. Latency: from the moment the request was sent (so the API's own time counts) to
  the welcome email's arrival at the sink. p50, p90, p99 and max.
- burst: `--burst` sign-ups in one request, then the time until the last of their welcome
  emails arrived (drain), and its p50 / p99. The API answers 202 once the batch is stored and
  routes it in the background; when it answers 503 (nothing stored: its routing backlog is full,
  or its store unavailable) the same request is sent again after a moment, as `playbook ingest`
  does after Retry-After; the count of such answers is reported.

Goal: p99 of the steady latency under 2 s. CPU time of the dev stack's process and of
Temporal's dev server is reported for each phase. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]

import httpx  # noqa: E402
from dev_server import free_port, server_cpu_seconds  # noqa: E402

from server.smtp_sink import read_index  # noqa: E402

GOAL_P99_SECONDS = 2.0
PLAYBOOK = str(Path(sys.executable).parent / "playbook")


def afternoon_zone(now: datetime | None = None) -> str:
    """An `Etc/GMT…` zone in which it is about 13:00 now (POSIX signs: Etc/GMT-3 is UTC+3)."""
    hour = (now or datetime.now(UTC)).hour
    offset = (13 - hour + 12) % 24 - 12  # in -12 … +11
    if offset == 0:
        return "UTC"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def free_pair() -> int:
    """A free port P with P + 1000 free too (the dev server's web UI)."""
    for _ in range(50):
        port = free_port()
        if port + 1000 > 65535:
            continue
        try:
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1000))
            return port
        except OSError:
            continue
    raise SystemExit("no free pair of ports for Temporal and its web UI")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.4999) - 1))]


def tree_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process and of its direct children (the dev stack and its Temporal)."""
    found = {"dev": server_cpu_seconds(pid), "temporal": 0.0}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        with contextlib.suppress(OSError):
            found["temporal"] += server_cpu_seconds(int(child))
    return found


class Stack:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.api_port, self.smtp_port, self.temporal_port = free_port(), free_port(), free_pair()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.state = folder / "state"
        self.log = (folder / "dev.log").open("w")
        env = {**os.environ, "PLAYBOOK_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
               "PLAYBOOK_SMTP_PORT": str(self.smtp_port), "PLAYBOOK_API_PORT": str(self.api_port),
               "PLAYBOOK_STATE_DIR": str(self.state), "PLAYBOOK_API_MAX_BODY_BYTES": str(64 * 1024 * 1024)}
        for name in ("PLAYBOOK_API_TOKEN", "PLAYBOOK_DATABASE_URL", "PLAYBOOK_PUBLIC_URL", "PLAYBOOK_SMTP_HOST"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [PLAYBOOK, "dev", str(ROOT / "playbooks"), "--state-dir", str(self.state), "--port", str(self.api_port)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.flush()
                raise SystemExit(f"playbook dev exited with {self.process.returncode}:\n"
                                 + Path(self.log.name).read_text()[-2000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"playbook dev did not serve within {timeout:g} s; see {self.log.name}")

    def arrivals(self) -> dict[str, datetime]:
        """Recipient address -> the arrival time of the first welcome email to it."""
        found: dict[str, datetime] = {}
        for entry in read_index(self.state / "outbox"):
            if not entry.subject.startswith("Welcome"):
                continue
            for to in entry.to:
                found.setdefault(to.lower(), entry.received_at)
        return found

    def cpu(self) -> dict[str, float]:
        return tree_cpu(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def email(account: str) -> str:
    return f"ana@{account}.example"


def account_object(account: str, zone: str) -> dict[str, Any]:
    return {"account": account, "traits": {
        "name": f"Account {account}", "segment": "smb", "timezone": zone,
        "primary_contact": {"email": email(account), "name": "Ana"},
        "csm": {"email": "sam@vendor.example", "name": "Sam"}}}


def signed(account: str) -> dict[str, Any]:
    return {"id": f"{account}-signed", "account": account, "event": "signed",
            "at": datetime.now(UTC).isoformat()}


async def post(http: httpx.AsyncClient, objects: list[dict[str, Any]], retries: int = 50) -> int:
    """Send one batch; on 503 (nothing stored: the routing backlog is full) send it again after a
    moment, as `playbook ingest` does after Retry-After, until it is stored. Returns the number of 503s."""
    body = "\n".join(json.dumps(o) for o in objects) + "\n"
    for attempt in range(retries + 1):
        response = await http.post("/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        if response.status_code == 503:
            await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 1.0))
            continue
        if response.status_code != 202 or response.json().get("rejected"):
            raise SystemExit(f"POST /v1/events answered {response.status_code}: {response.text[:300]}")
        return attempt
    raise SystemExit(f"POST /v1/events still answered 503 after {retries} retries")


async def wait_for(stack: Stack, accounts: list[str], timeout: float) -> dict[str, datetime]:
    wanted = {email(a) for a in accounts}
    deadline = time.monotonic() + timeout
    while True:
        found = stack.arrivals()
        if wanted <= found.keys() or time.monotonic() > deadline:
            return {a: found[email(a)] for a in accounts if email(a) in found}
        await asyncio.sleep(0.25)


async def steady(stack: Stack, accounts: list[str], rate: float, timeout: float) -> dict[str, Any]:
    sent: dict[str, datetime] = {}
    answered: dict[str, datetime] = {}
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        began = time.perf_counter()

        async def one(index: int, account: str) -> None:
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            sent[account] = datetime.now(UTC)
            await post(http, [signed(account)])
            answered[account] = datetime.now(UTC)

        await asyncio.gather(*(one(i, a) for i, a in enumerate(accounts)))
        sending = time.perf_counter() - began
    arrived = await wait_for(stack, accounts, timeout)
    latencies = [(arrived[a] - sent[a]).total_seconds() for a in accounts if a in arrived]
    after_202 = [(arrived[a] - answered[a]).total_seconds() for a in accounts if a in arrived]
    api = [(answered[a] - sent[a]).total_seconds() for a in accounts]
    return {"accounts": len(accounts), "rate_per_second": rate, "sending_seconds": round(sending, 1),
            "arrived": len(latencies),
            "p50_s": round(percentile(latencies, 0.5), 3), "p90_s": round(percentile(latencies, 0.9), 3),
            "p99_s": round(percentile(latencies, 0.99), 3), "max_s": round(max(latencies, default=float("nan")), 3),
            "p99_after_202_s": round(percentile(after_202, 0.99), 3),
            "api_p50_s": round(percentile(api, 0.5), 3), "api_p99_s": round(percentile(api, 0.99), 3)}


async def burst(stack: Stack, accounts: list[str], timeout: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=600) as http:
        sent = datetime.now(UTC)
        began = time.perf_counter()
        unavailable = await post(http, [signed(a) for a in accounts])
        posting = time.perf_counter() - began
    arrived = await wait_for(stack, accounts, timeout)
    latencies = [(arrived[a] - sent).total_seconds() for a in accounts if a in arrived]
    return {"accounts": len(accounts), "post_seconds": round(posting, 2), "answers_503": unavailable,
            "arrived": len(latencies),
            "drain_s": round(max(latencies, default=float("nan")), 2),
            "p50_s": round(percentile(latencies, 0.5), 2), "p99_s": round(percentile(latencies, 0.99), 2),
            "drain_per_second": round(len(latencies) / max(latencies), 1) if latencies else None}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    zone = afternoon_zone()
    steady_accounts = [f"w{index:05d}" for index in range(args.accounts)]
    burst_accounts = [f"b{index:05d}" for index in range(args.burst)]
    figures: dict[str, Any] = {"zone": zone, "goal_p99_s": GOAL_P99_SECONDS}
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        stack = Stack(Path(scratch))
        try:
            began = time.perf_counter()
            stack.wait_ready()
            figures["startup_s"] = round(time.perf_counter() - began, 1)
            async with httpx.AsyncClient(base_url=stack.url, timeout=600) as http:
                everyone = steady_accounts + burst_accounts
                for first in range(0, len(everyone), 1000):
                    await post(http, [account_object(a, zone) for a in everyone[first:first + 1000]])
            await asyncio.sleep(1.0)
            cpu = stack.cpu()
            figures["steady"] = await steady(stack, steady_accounts, args.rate, args.timeout)
            after = stack.cpu()
            figures["steady"]["cpu_s"] = {k: round(after[k] - cpu[k], 1) for k in cpu}
            if burst_accounts:
                await asyncio.sleep(2.0)
                cpu = stack.cpu()
                figures["burst"] = await burst(stack, burst_accounts, args.timeout)
                after = stack.cpu()
                figures["burst"]["cpu_s"] = {k: round(after[k] - cpu[k], 1) for k in cpu}
        finally:
            stack.stop()
    s = figures["steady"]
    print(f"dev stack: playbook dev, standard playbooks, accounts in {zone} (early afternoon); "
          f"started in {figures['startup_s']} s")
    print(f"steady: {s['accounts']:,} sign-ups at {s['rate_per_second']:g}/s, {s['arrived']:,} welcomes arrived; "
          f"latency p50 {s['p50_s']:.3f} s, p90 {s['p90_s']:.3f} s, p99 {s['p99_s']:.3f} s, max {s['max_s']:.3f} s "
          f"(goal p99 < {GOAL_P99_SECONDS:g} s); API answer p50 {s['api_p50_s']:.3f} s; CPU {s['cpu_s']}")
    if "burst" in figures:
        b = figures["burst"]
        print(f"burst:  {b['accounts']:,} sign-ups in one request (stored and answered after {b['post_seconds']} s, "
              f"{b['answers_503']} answers 503 on the way), "
              f"{b['arrived']:,} welcomes arrived; drained in {b['drain_s']} s ({b['drain_per_second']}/s); "
              f"p50 {b['p50_s']} s, p99 {b['p99_s']} s; CPU {b['cpu_s']}")
    figures["goal_met"] = s["arrived"] == s["accounts"] and s["p99_s"] < GOAL_P99_SECONDS
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=1000, help="steady sign-ups (default 1000)")
    parser.add_argument("--rate", type=float, default=5.0, help="steady sign-ups per second (default 5)")
    parser.add_argument("--burst", type=int, default=1000, help="sign-ups in the one burst request (0: none)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the emails of a phase")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
