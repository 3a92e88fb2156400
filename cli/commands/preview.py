"""`playbook preview TEMPLATE [--account ID | --traits FILE] [--html OUT] [--playbooks DIR]`, and
`playbook preview --all`: templates rendered exactly as they would be sent.

The rendering is the one the engine sends with (`activities.sending.compose_message`): the same
sandbox and context, the contact the playbook sends to, the unsubscribe link. The account is:

- `--account ID` with `--database-url` or `--store`: the account in the store as it stands now
  (or at `--at`), rendered with the templates of `--playbooks DIR`;
- `--account ID` otherwise: the running engine renders it (`GET /v1/preview/{template}`) with the
  templates it runs, and its own unsubscribe link;
- `--traits FILE`: a JSON object of the account's fields (with `"id"` optionally);
- neither: a sample account built from the model (every field with a plausible value).

`--all` renders every template of the folder, so a reviewer reads all the copy of a change at
once: as text, or as one HTML page with `--html FILE`. For one template, `--html FILE` writes its
HTML part. `--json` prints the rendered messages as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activities.preview import (
    SAMPLE_ACCOUNT,
    Preview,
    html_report,
    preview,
    sample_snapshot,
    store_snapshot,
    text_report,
)
from cli.commands import UsageError
from cli.commands.api_client import api_from_args, failing_cleanly, load_settings, parse_time, parse_when
from cli.commands.stats import add_source_options, local_bundle, local_store, reads_store
from dsl import ir

__all__ = ["register", "run"]


def _traits(path: str) -> tuple[str, dict[str, Any]]:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"--traits: cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"--traits: {path} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--traits: {path} must hold one JSON object of the account's fields")
    fields = dict(value)
    account = fields.pop("id", None)
    return (account if isinstance(account, str) and account else SAMPLE_ACCOUNT), fields


def _of_json(body: dict[str, Any]) -> Preview:
    at = parse_time(body.get("at")) or datetime.now(UTC)
    def text(key: str) -> str | None:
        value = body.get(key)
        return value if isinstance(value, str) else None

    return Preview(template=text("template") or "", channel=text("channel") or "email", account=text("account") or "",
                   at=at, playbook=text("playbook"), to=text("to"), subject=text("subject"), text=text("text"),
                   html=text("html"), unsubscribe_url=text("unsubscribe_url"), not_sent=text("not_sent"),
                   error=text("error"))


def _from_api(args: argparse.Namespace, names: list[str]) -> list[Preview]:
    params = {key: value for key, value in (("account", args.account), ("playbook", args.playbook),
                                            ("at", args.at)) if value}
    with api_from_args(args) as api:
        return [_of_json(api.json("GET", f"/v1/preview/{urllib.parse.quote(name, safe='')}", params=params))
                for name in names]


def _local(args: argparse.Namespace, bundle: ir.Bundle, names: list[str], at: datetime) -> list[Preview]:
    settings = load_settings()
    secret = settings.unsubscribe_secret.get_secret_value()
    if args.account is not None:
        store = local_store(args)
        try:
            if args.account not in store.account_ids():
                raise UsageError(f"no account '{args.account}' in the store")
            snap = store_snapshot(store, bundle, args.account, at)
            return [preview(bundle, snap, name, public_url=settings.base_url, unsubscribe_secret=secret,
                            playbook=args.playbook, store=store) for name in names]
        finally:
            store.close()
    if args.traits is not None:
        account, fields = _traits(args.traits)
        snap = sample_snapshot(bundle, at, fields, account)
    else:
        snap = sample_snapshot(bundle, at)
    return [preview(bundle, snap, name, public_url=settings.base_url, unsubscribe_secret=secret,
                    playbook=args.playbook) for name in names]


def _one(item: Preview) -> str:
    return text_report([item])


def _run(args: argparse.Namespace) -> int:
    if args.all == (args.template is not None):
        raise UsageError("give a TEMPLATE, or --all for every template of the folder")
    if args.account is not None and args.traits is not None:
        raise UsageError("--account and --traits both say who the message is for: give one")
    at = parse_when(args.at, "--at") if args.at else datetime.now(UTC)
    through_api = args.account is not None and not reads_store(args)
    bundle = None if through_api and not args.all else local_bundle(args.playbooks)
    if bundle is not None:
        if args.template is not None and args.template not in bundle.templates:
            known = ", ".join(sorted(bundle.templates)) or "none"
            raise UsageError(f"no template '{args.template}' in {args.playbooks} (templates: {known})")
        if args.playbook is not None and args.playbook not in bundle.playbooks:
            raise UsageError(f"no playbook '{args.playbook}' in {args.playbooks}")
    names = sorted(bundle.templates) if bundle is not None and args.all else [args.template]
    previews = _from_api(args, names) if through_api else _local(args, bundle, names, at) if bundle else []
    if args.json:
        sys.stdout.write(json.dumps([item.to_json() for item in previews], ensure_ascii=False, indent=2) + "\n")
    elif args.html and args.all:
        Path(args.html).write_text(html_report(previews, f"Templates of {args.playbooks}"), encoding="utf-8")
        print(f"wrote {len(previews)} templates to {args.html}")
    else:
        sys.stdout.write(text_report(previews))
        if args.html:
            item = previews[0]
            if item.html is None:
                print(f"{item.template} has no HTML part: nothing written to {args.html}", file=sys.stderr)
            else:
                Path(args.html).write_text(item.html, encoding="utf-8")
                print(f"\nwrote the HTML part to {args.html}")
    failed = [item for item in previews if item.error]
    return 1 if failed else 0


run = failing_cleanly("preview", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="render templates exactly as they would be sent",
        description="Render a template (subject, text and HTML) exactly as it would be sent to an account, "
                    "or every template of the folder (--all) for a sample account built from the model.",
    )
    parser.add_argument("template", nargs="?", default=None, metavar="TEMPLATE", help="the template's name")
    parser.add_argument("--all", action="store_true", help="every template of the folder")
    parser.add_argument("--account", metavar="ID", default=None, help="render for this account")
    parser.add_argument("--traits", metavar="FILE", default=None,
                        help="render for an account with these fields (a JSON object)")
    parser.add_argument("--playbook", metavar="ID", default=None,
                        help="as sent by this playbook (default: the first that sends the template)")
    parser.add_argument("--at", metavar="DATE", default=None,
                        help="the account as it stood at DATE (default: now)")
    parser.add_argument("--html", metavar="FILE", default=None,
                        help="write the HTML part (with --all: one page with every template) to FILE")
    parser.add_argument("--json", action="store_true", help="the rendered messages as JSON")
    add_source_options(parser)
    parser.set_defaults(handler=run)
