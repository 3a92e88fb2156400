"""Events per second into the store: through the HTTP API and `playbook ingest`, against a raw
`executemany` of the same rows into the same schema.

    .venv/bin/python bench/ingest_speed.py [--accounts 1000] [--days 30] [--batch 500]
                                           [--postgres URL | --no-postgres]

The events are a realistic timeline from `bench/generate_timeline.py` (logins, trait updates,
sign-ups and the rest; seed 7). For each database (SQLite, and PostgreSQL when a server is
given or `.ci/postgres.sh --url` starts one):

- `api`: `playbook api` in its own process (uvicorn, the real store, the standard playbooks,
  a Temporal dev server for routing, no worker), a fresh database; the events are posted to
  `POST /v1/events` as JSON lines in batches of `--batch`, one request after the other.
- `ingest`: the same with `playbook ingest FILE --batch N` as a subprocess (reads and checks the
  file, then posts the batches).
- `raw`: the rows the `api` run stored in `events`, read back and inserted with one
  `executemany` in one transaction into a fresh database of the same schema (same indexes,
  same pragmas for SQLite: WAL, synchronous=normal).

Each run gets its own Temporal namespace, so the sign-ups of one run start journeys exactly as
they would the first time. Rates are events over wall time (first request to last answer): the
API answers once a batch is stored and routes behind, so the time until every stored event is
routed (committed: routing's writes, intents and marks) is measured too (`/healthz` polled until
the routing backlog is empty: `routed_seconds`, `routed_events_per_second`, `routed_vs_raw`), lest
the stored rate flatter, and apart the drain of the starts and signals to Temporal behind it
(until the drain backlog is empty: `drained_seconds`, `drained_intents`). The API process's
CPU time is reported for both. Goal: the API (and `playbook ingest`) at half the raw rate or
better. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]

import generate_timeline  # noqa: E402
import httpx  # noqa: E402
from dev_server import DevServer, free_port, server_cpu_seconds  # noqa: E402

from engine.store import Store  # noqa: E402

GOAL_RATIO = 0.5
COLUMNS = ("id", "account", "name", "at", "data", "traits", "source", "received_at", "routed_at")
PLAYBOOK = str(Path(sys.executable).parent / "playbook")


# --------------------------------------------------------------------------- databases


class Databases:
    """Fresh, migrated databases on SQLite files or on one PostgreSQL server."""

    def __init__(self, kind: str, folder: Path, server_url: str | None = None) -> None:
        self.kind, self.folder, self.server_url = kind, folder, server_url
        self.created: list[str] = []

    def fresh(self, name: str) -> str:
        if self.kind == "sqlite":
            url = f"sqlite:///{self.folder / (name + '.db')}"
        else:
            import psycopg

            assert self.server_url is not None
            database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(self._libpq("postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            self.created.append(database)
            url = self.server_url.rsplit("/", 1)[0] + "/" + database
        Store.open(url).close()  # migrates: the schema the engine uses
        return url

    def _libpq(self, database: str) -> str:
        assert self.server_url is not None
        return self.server_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/" + database

    def connect(self, url: str) -> Any:
        if self.kind == "sqlite":
            conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        import psycopg

        return psycopg.connect(self._libpq(url.rsplit("/", 1)[1]))

    def unrouted(self, url: str) -> int:
        return self._count(url, "SELECT count(*) FROM events WHERE routed_at IS NULL")

    def count(self, url: str) -> int:
        return self._count(url, "SELECT count(*) FROM events")

    def _count(self, url: str, query: str) -> int:
        conn = self.connect(url)
        try:
            return int(conn.execute(query).fetchone()[0])
        finally:
            conn.close()

    def rows(self, url: str) -> list[tuple[Any, ...]]:
        """The stored events as the database holds them (JSON as text), in order."""
        cols = ", ".join(f"{c}::text" if c in ("data", "traits") and self.kind == "postgresql" else c
                         for c in COLUMNS)
        conn = self.connect(url)
        try:
            return list(conn.execute(f"SELECT {cols} FROM events ORDER BY seq").fetchall())
        finally:
            conn.close()

    def raw_insert(self, url: str, rows: list[tuple[Any, ...]]) -> float:
        """Seconds for one executemany of `rows` into `events`, committed."""
        if self.kind == "sqlite":
            marks = ", ".join("?" for _ in COLUMNS)
        else:
            marks = ", ".join("%s::jsonb" if c in ("data", "traits") else "%s" for c in COLUMNS)
        sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({marks})"
        conn = self.connect(url)
        try:
            began = time.perf_counter()
            if self.kind == "sqlite":
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
            else:
                with conn.cursor() as cursor:
                    cursor.executemany(sql, rows)
                conn.commit()
            return time.perf_counter() - began
        finally:
            conn.close()

    def written_rows(self, url: str) -> dict[str, tuple[list[tuple[str, bool]], list[tuple[Any, ...]]]]:
        """Every row of every table, by table: ((column, is JSON) of each column, rows), as the
        database holds them (JSON as text)."""
        from sqlalchemy import JSON

        from engine.store.schema import metadata

        found: dict[str, tuple[list[tuple[str, bool]], list[tuple[Any, ...]]]] = {}
        conn = self.connect(url)
        try:
            for table in metadata.sorted_tables:
                columns = [(column.name, isinstance(getattr(column.type, "impl", column.type), JSON))
                           for column in table.columns]
                shown = ", ".join(f'"{name}"::text' if json and self.kind == "postgresql" else f'"{name}"'
                                  for name, json in columns)
                rows = list(conn.execute(f"SELECT {shown} FROM {table.name}").fetchall())
                if rows:
                    found[table.name] = (columns, rows)
        finally:
            conn.close()
        return found

    def raw_insert_all(self, url: str, tables: dict[str, tuple[list[tuple[str, bool]], list[tuple[Any, ...]]]]
                       ) -> tuple[float, int]:
        """Seconds for one executemany per table of `tables` into the fresh store at `url`, in one
        transaction, committed, and the rows inserted. The tables a fresh store already fills (its
        migrations seed them) are left out."""
        conn = self.connect(url)
        try:
            seeded = {name for name in tables if conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]}
            if self.kind == "postgresql":
                conn.commit()
            statements: list[tuple[str, str, list[tuple[Any, ...]]]] = []
            for name, (columns, rows) in tables.items():
                if name in seeded:
                    continue
                names = ", ".join(f'"{column}"' for column, _ in columns)
                marks = ", ".join("?" if self.kind == "sqlite" else "%s::jsonb" if json else "%s"
                                  for _, json in columns)
                statements.append((name, f"INSERT INTO {name} ({names}) VALUES ({marks})", rows))
            inserted = 0
            began = time.perf_counter()
            if self.kind == "sqlite":
                conn.execute("BEGIN")
                for name, sql, rows in statements:
                    # a table the store's triggers fill as the others are inserted is left to them
                    if not conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]:
                        conn.executemany(sql, rows)
                        inserted += len(rows)
                conn.execute("COMMIT")
            else:
                with conn.cursor() as cursor:
                    for name, sql, rows in statements:
                        cursor.execute(f"SELECT count(*) FROM {name}")
                        found = cursor.fetchone()
                        if not (found and found[0]):
                            cursor.executemany(sql, rows)
                            inserted += len(rows)
                conn.commit()
            return time.perf_counter() - began, inserted
        finally:
            conn.close()

    def drop(self) -> None:
        if self.kind != "postgresql" or not self.created:
            return
        import psycopg

        with psycopg.connect(self._libpq("postgres"), autocommit=True) as conn:
            for database in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def postgres_url(explicit: str | None, disabled: bool) -> tuple[str | None, str]:
    """The PostgreSQL server to use, or None and why not."""
    if disabled:
        return None, "--no-postgres"
    if explicit:
        return explicit, "given"
    found = os.environ.get("PLAYBOOK_TEST_POSTGRES_URL")
    if found:
        return found, "PLAYBOOK_TEST_POSTGRES_URL"
    try:
        done = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "--url"], capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f".ci/postgres.sh failed: {error}"
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f".ci/postgres.sh failed: {reason}"
    return done.stdout.strip().splitlines()[-1], ".ci/postgres.sh"


# --------------------------------------------------------------------------- the API process


class ApiProcess:
    """`playbook api` on a free port against `database_url` and the dev server's `namespace`."""

    def __init__(self, folder: Path, temporal: str, namespace: str, database_url: str,
                 horizon_days: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (folder / f"api-{namespace}.log").open("w")
        env = {**os.environ, "PLAYBOOK_TEMPORAL_ADDRESS": temporal, "PLAYBOOK_TEMPORAL_NAMESPACE": namespace,
               "PLAYBOOK_DATABASE_URL": database_url, "PLAYBOOK_TASK_QUEUE": "bench-ingest",
               "PLAYBOOK_STATE_DIR": str(folder / "state"), "PLAYBOOK_API_MAX_BODY_BYTES": str(64 * 1024 * 1024)}
        env.pop("PLAYBOOK_API_TOKEN", None)
        if horizon_days is not None:  # `--live`: the whole timeline triggers journeys
            env["PLAYBOOK_TRIGGER_HORIZON"] = f"{horizon_days}d"
        self.process = subprocess.Popen(
            [PLAYBOOK, "api", str(ROOT / "playbooks"), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"playbook api exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"playbook api did not answer within {timeout:g} s; see {self.log.name}")

    def cpu(self) -> float:
        return server_cpu_seconds(self.process.pid)

    def wait_routed(self, timeout: float = 1800.0, *, drained: bool = False) -> dict[str, Any]:
        """Until the API has routed (committed) every event it stored (its routing backlog is empty);
        with `drained`, until its drain has carried every start and signal out on Temporal too. Its
        routing status then."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while time.monotonic() < deadline:
                health = http.get("/healthz").json()
                routing: dict[str, Any] = health.get("routing", {})
                if health.get("pending_routing") == 0 and routing.get("state") not in ("routing", "retrying") and (
                        not drained or routing.get("state", "idle") == "idle"):
                    return routing
                time.sleep(0.05)
        raise SystemExit(f"the API did not route its backlog within {timeout:g} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def post_batches(url: str, lines: list[str], batch: int) -> None:
    with httpx.Client(base_url=url, timeout=300) as http:
        for first in range(0, len(lines), batch):
            body = "\n".join(lines[first:first + batch]) + "\n"
            response = http.post("/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"})
            if response.status_code != 202:
                raise SystemExit(f"POST /v1/events answered {response.status_code}: {response.text[:300]}")
            answer = response.json()
            if answer.get("rejected"):
                raise SystemExit(f"POST /v1/events rejected lines: {answer['rejected'][:3]}")


# --------------------------------------------------------------------------- one database


def measure_backend(kind: str, folder: Path, server: DevServer, events: Path, lines: list[str],
                    batch: int, server_url: str | None, horizon_days: int | None = None) -> dict[str, Any]:
    databases = Databases(kind, folder, server_url)
    figures: dict[str, Any] = {"events": len(lines)}
    try:
        urls: dict[str, str] = {}
        for way in ("api", "ingest"):
            url = urls[way] = databases.fresh(way)
            api = ApiProcess(folder, server.address, f"{kind}_{way}", url, horizon_days)
            try:
                api.wait_ready()
                cpu = api.cpu()
                began = time.perf_counter()
                if way == "api":
                    post_batches(api.url, lines, batch)
                else:
                    done = subprocess.run([PLAYBOOK, "ingest", str(events), "--batch", str(batch), "--url", api.url],
                                          capture_output=True, text=True, cwd=folder)
                    if done.returncode != 0:
                        raise SystemExit(f"playbook ingest failed ({done.returncode}): {done.stderr[-500:]}")
                seconds = time.perf_counter() - began
                api_cpu = api.cpu() - cpu
                api.wait_routed()
                routed_seconds = time.perf_counter() - began
                routed_cpu = api.cpu() - cpu
                intents = int(api.wait_routed(drained=True).get("drained") or 0)
                drained_seconds = time.perf_counter() - began
            finally:
                api.stop()
            stored = databases.count(url)
            if stored != len(lines):
                print(f"warning: {kind} {way} stored {stored} of {len(lines)} events", file=sys.stderr)
            figures[way] = {"seconds": round(seconds, 3), "events_per_second": round(stored / seconds, 1),
                            "api_cpu_seconds": round(api_cpu, 2), "stored": stored,
                            "routed_seconds": round(routed_seconds, 3),
                            "routed_events_per_second": round(stored / routed_seconds, 1),
                            "api_cpu_seconds_until_routed": round(routed_cpu, 2),
                            # the drain to Temporal, behind routing: starts and signals carried out
                            "drained_intents": intents, "drained_seconds": round(drained_seconds, 3),
                            "unrouted": databases.unrouted(url)}
        rows = databases.rows(urls["api"])
        raw_url = databases.fresh("raw")
        seconds = databases.raw_insert(raw_url, rows)
        figures["raw"] = {"seconds": round(seconds, 4), "events_per_second": round(len(rows) / seconds, 1),
                          "stored": databases.count(raw_url)}
    finally:
        databases.drop()
    raw_rate = figures["raw"]["events_per_second"]
    figures["api_vs_raw"] = round(figures["api"]["events_per_second"] / raw_rate, 4)
    figures["ingest_vs_raw"] = round(figures["ingest"]["events_per_second"] / raw_rate, 4)
    figures["routed_vs_raw"] = round(figures["api"]["routed_events_per_second"] / raw_rate, 4)
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    pg, why = postgres_url(args.postgres, args.no_postgres)
    kinds = ["sqlite"] + (["postgresql"] if pg else [])
    results: dict[str, Any] = {"accounts": args.accounts, "days": args.days, "batch": args.batch,
                               "goal_ratio": GOAL_RATIO}
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = Path(scratch)
        events = folder / "events.jsonl"
        start = (datetime.now(UTC) - timedelta(days=args.days)).replace(microsecond=0) if args.live \
            else generate_timeline.DEFAULT_START
        summary = generate_timeline.write(events, args.accounts, args.days, args.seed, start)
        lines = [line for line in events.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(f"timeline: {summary.events:,} objects for {args.accounts:,} accounts over {args.days} days "
              f"(seed {args.seed}); batches of {args.batch}")
        server = DevServer(folder, namespaces=tuple(f"{k}_{w}" for k in kinds for w in ("api", "ingest")))
        try:
            import asyncio

            asyncio.run(server.connect())
            for kind in kinds:
                (folder / kind).mkdir()
                results[kind] = measure_backend(kind, folder / kind, server, events, lines, args.batch,
                                                pg if kind == "postgresql" else None,
                                                args.days + 1 if args.live else None)
        finally:
            server.stop()
    if not pg:
        results["postgresql"] = {"skipped": why}
    print()
    print(f"{'database':11s} {'way':7s} {'events/s':>10s} {'seconds':>9s} {'API CPU s':>10s} {'vs raw':>8s}"
          f"   {'routed/s':>9s} {'routed s':>9s} {'CPU s':>7s}")
    for kind in ("sqlite", "postgresql"):
        figures = results[kind]
        if "skipped" in figures:
            print(f"{kind:11s} skipped: {figures['skipped']}")
            continue
        for way in ("api", "ingest", "raw"):
            f = figures[way]
            ratio = f["events_per_second"] / figures["raw"]["events_per_second"]
            cpu = f"{f['api_cpu_seconds']:10.2f}" if "api_cpu_seconds" in f else f"{'':10s}"
            routed = (f"   {f['routed_events_per_second']:9,.0f} {f['routed_seconds']:9.2f} "
                      f"{f['api_cpu_seconds_until_routed']:7.2f}" if "routed_seconds" in f else "")
            print(f"{kind:11s} {way:7s} {f['events_per_second']:10,.0f} {f['seconds']:9.3f} {cpu} {ratio:8.3f}{routed}")
    worst = min(results["sqlite"]["api_vs_raw"], results["sqlite"]["ingest_vs_raw"])
    print(f"goal: API and `playbook ingest` at >= {GOAL_RATIO} of the raw executemany rate (stored and answered); "
          "routed/s: until every stored event is routed")
    results["goal_met"] = worst >= GOAL_RATIO
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500, help="events per request (default 500, as playbook ingest)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL (postgresql+psycopg://…/db)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--live", action="store_true",
                        help="a timeline ending now and a trigger horizon covering it: its sign-ups start journeys "
                             "(else it is history, as an import of last year's data)")
    args = parser.parse_args(argv)
    figures = run(args)
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
