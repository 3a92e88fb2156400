"""A folder of playbooks with a known effect of each change, and a store with a known history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from dsl.project import compile_folder
from engine.intake.ingestion import Ingestor
from engine.store import Store

MODEL = """\
account fields:
    name: text
    tasks_completed: number
    csm: owner
    primary_contact: contact

events:
    signed
"""

POLICY = """\
policy:
    at most {cap} emails per account per 7 days
"""

PLAYBOOK = """\
playbook signup "Signup series":
    trigger: event signed

    day 0:
        send email tip_one to primary_contact
    day 1:
        send email tip_two to primary_contact
    day 2:
        send email tip_three to primary_contact
    day 3:
        send email tip_four to primary_contact
    day 4:
        if tasks_completed >= {threshold}:
            create task "Check in: {{{{ account.name }}}}" for csm due 48h
"""

TEMPLATES = ("tip_one", "tip_two", "tip_three", "tip_four")

# Three accounts sign up; their tasks_completed: 7, 12 and 3.
ACCOUNTS = {"acme": 7, "globex": 12, "initech": 3}
SIGNED_AT = {"acme": "2026-01-05T09:00:00Z", "globex": "2026-01-06T10:00:00Z", "initech": "2026-01-07T11:00:00Z"}


def write_folder(root: Path, *, cap: int = 3, threshold: int = 10) -> Path:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "model.play").write_text(MODEL)
    (root / "policies.play").write_text(POLICY.format(cap=cap))
    (root / "signup.play").write_text(PLAYBOOK.format(threshold=threshold))
    for name in TEMPLATES:
        (root / "templates" / f"{name}.email.jinja").write_text(
            f"{{% block subject %}}{name} for {{{{ contact.name }}}}{{% endblock %}}\n"
            f"{{% block text %}}{name}{{% endblock %}}\n{{% block html %}}<p>{name}</p>{{% endblock %}}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return root


def history_lines() -> list[str]:
    lines: list[str] = []
    for account, done in ACCOUNTS.items():
        at = SIGNED_AT[account]
        traits = {"name": account.title(), "tasks_completed": done,
                  "csm": {"email": "sam@vendor.example", "name": "Sam"},
                  "primary_contact": {"email": f"ana@{account}.example", "name": "Ana"}}
        lines.append(json.dumps({"id": f"{account}-traits", "account": account, "at": at, "traits": traits}))
        lines.append(json.dumps({"id": f"{account}-signed", "account": account, "at": at, "event": "signed"}))
    return lines


def build_store(path: Path, playbooks: Path) -> str:
    """A live store holding the history, ingested as the engine ingests it."""
    url = f"sqlite:///{path}"
    bundle = compile_folder(playbooks).bundle
    assert bundle is not None
    store = Store.open(url)
    try:
        accepted = 0
        for line in history_lines():  # each arriving when it happened, as live input does
            at = datetime.fromisoformat(json.loads(line)["at"])
            result = Ingestor(store, bundle.model).ingest(line, now=at)
            assert not result.rejected and not result.backfill
            accepted += len(result.accepted)
        assert accepted == 2 * len(ACCOUNTS)
    finally:
        store.close()
    return url
