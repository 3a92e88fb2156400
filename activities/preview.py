"""`playbook preview`: a template rendered exactly as it would be sent to an account.

The rendering is `activities.sending.compose_message`, the function `send_message` sends with:
the same sandbox, the same context (the account's snapshot at the moment, its scores and
metrics, the contact the playbook sends to, the unsubscribe link, the triggering event), so a
preview and the message an account receives are the same text.

What the preview fills in that a journey would know:
- the playbook: the first playbook (by id) that sends the template, unless one is named; its
  `send email … to FIELD` gives the contact;
- the event: for a playbook started by an event, the account's latest event of that name at or
  before the moment (from the store); for a sample account, a payload of sample values.

`sample_fields(model)` builds an account from the model (a plausible value of each field's
type, a contact on every contact field) so `--all` can show every template of a folder at once.
"""

from __future__ import annotations

import html as html_escape
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from activities.rendering import RenderError
from activities.sending import ComposedMessage, NoRecipient, compose_message
from dsl import ir
from engine.records import Snapshot
from engine.semantics.ir_walk import walk
from engine.store.snapshots import build_snapshot, snapshot_of

if TYPE_CHECKING:
    from engine.store import Store

__all__ = [
    "Preview",
    "html_report",
    "preview",
    "preview_all",
    "sample_data",
    "sample_fields",
    "sample_snapshot",
    "store_snapshot",
    "template_usage",
    "text_report",
]

SAMPLE_ACCOUNT = "sample-account"


@dataclass(frozen=True)
class Preview:
    template: str
    channel: str  # email | in_app
    account: str
    at: datetime
    playbook: str | None  # the playbook whose send was rendered
    to: str | None = None  # the recipient (emails)
    subject: str | None = None  # an in-app message's title
    text: str | None = None
    html: str | None = None
    unsubscribe_url: str | None = None
    not_sent: str | None = None  # why this account would get no message (no recipient)
    error: str | None = None  # why the template cannot be rendered for this account

    def to_json(self) -> dict[str, Any]:
        return {"template": self.template, "channel": self.channel, "account": self.account,
                "at": self.at.isoformat(), "playbook": self.playbook, "to": self.to, "subject": self.subject,
                "text": self.text, "html": self.html, "unsubscribe_url": self.unsubscribe_url,
                "not_sent": self.not_sent, "error": self.error}


# --------------------------------------------------------------------------- which send


def template_usage(bundle: ir.Bundle, template: str, playbook: str | None = None) -> tuple[str | None, list[str]]:
    """The playbook that sends `template` (the named one, else the first by id) and its contact path."""
    names = [playbook] if playbook is not None else sorted(bundle.playbooks)
    for name in names:
        spec = bundle.playbooks.get(name)
        if spec is None:
            continue
        for step in spec.steps:
            for _, statement in walk(step.body, step.name):
                if isinstance(statement, ir.SendEmail) and statement.template == template:
                    return spec.id, list(statement.to)
                if isinstance(statement, ir.SendInApp) and statement.template == template:
                    return spec.id, []
    return playbook, ["primary_contact"]


def _trigger_event(bundle: ir.Bundle, playbook: str | None) -> str | None:
    spec = bundle.playbooks.get(playbook) if playbook else None
    return spec.trigger.event if spec is not None and isinstance(spec.trigger, ir.EventTrigger) else None


# --------------------------------------------------------------------------- sample accounts


def _sample(name: str, field: ir.FieldType, today: date) -> Any:
    kind = field.type
    if kind == "text":
        return {"name": "Example Co", "timezone": "UTC"}.get(name, f"sample {name.replace('_', ' ')}")
    if kind == "enum":
        return field.values[0] if field.values else "sample"
    if kind == "number":
        return 12
    if kind == "money":
        return 25000
    if kind == "percent":
        return 50
    if kind == "boolean":
        return True
    if kind == "date":
        return (today + timedelta(days=90)).isoformat()
    if kind == "datetime":
        return datetime.combine(today, datetime.min.time(), tzinfo=UTC).isoformat()
    if kind == "duration":
        return "7 days"
    if kind == "owner":
        return {"email": f"{name}@vendor.example", "name": "Sam Owner",
                "manager": {"email": f"{name}.manager@vendor.example", "name": "Lee Manager"}}
    return {"email": f"{name.replace('_', '.')}@customer.example", "name": "Casey"}  # contact


def sample_fields(model: ir.Model, today: date | None = None) -> dict[str, Any]:
    """An account with every field of the model set to a plausible value of its type."""
    day = today or datetime.now(UTC).date()
    fields = {name: _sample(name, field, day) for name, field in model.fields.items()}
    fields.setdefault("primary_contact", _sample("primary_contact", ir.FieldType(type="contact"), day))
    return fields


def sample_data(bundle: ir.Bundle, event: str | None) -> dict[str, Any]:
    """A payload of sample values for `event`, as the model declares it."""
    definition = bundle.model.events.get(event) if event else None
    if definition is None:
        return {}
    day = datetime.now(UTC).date()
    return {name: _sample(name, field, day) for name, field in definition.payload.items()}


def sample_snapshot(bundle: ir.Bundle, at: datetime, fields: dict[str, Any] | None = None,
                    account: str = SAMPLE_ACCOUNT) -> Snapshot:
    """The snapshot of an account with these fields (default: the sample) and no events."""
    return snapshot_of(bundle, account, at, fields if fields is not None else sample_fields(bundle.model), [])


def store_snapshot(store: Store, bundle: ir.Bundle, account: str, at: datetime) -> Snapshot:
    """The account as it stood at `at`, as a journey's send reads it."""
    return build_snapshot(store, bundle, account, at)


# --------------------------------------------------------------------------- rendering


def preview(bundle: ir.Bundle, snap: Snapshot, template: str, *, public_url: str, unsubscribe_secret: str,
            playbook: str | None = None, event: str | None = None, data: dict[str, Any] | None = None,
            store: Store | None = None) -> Preview:
    """`template` rendered for the account of `snap`, as the playbook that sends it would send it.

    The triggering event, when not given: the account's latest one in `store` (with a store),
    else a sample payload. Raises `KeyError` for a template the bundle does not have.
    """
    spec = bundle.templates[template]
    chosen, to = template_usage(bundle, template, playbook)
    if event is None:
        event = _trigger_event(bundle, chosen)
        if event is not None and data is None:
            data = _latest_data(store, snap, event) if store is not None else sample_data(bundle, event)
    title = bundle.playbooks[chosen].title if chosen in bundle.playbooks else ""
    base = Preview(template=template, channel=spec.channel, account=snap.account, at=snap.at, playbook=chosen)
    try:
        composed = compose_message(bundle, snap, spec, channel=spec.channel, to=to, playbook=chosen or "",
                                   playbook_title=title, public_url=public_url,
                                   unsubscribe_secret=unsubscribe_secret, event=event, data=data)
    except RenderError as error:
        return _replace(base, error=str(error))
    if isinstance(composed, NoRecipient):
        return _replace(base, not_sent=composed.reason)
    return _of(base, composed)


def _latest_data(store: Store, snap: Snapshot, event: str) -> dict[str, Any] | None:
    events = store.events_until(snap.account, snap.at, names={event})
    return events[-1][2] if events else None


def _replace(base: Preview, **changes: Any) -> Preview:
    return Preview(**{**base.__dict__, **changes})


def _of(base: Preview, composed: ComposedMessage) -> Preview:
    return _replace(base, to=composed.to, subject=composed.subject, text=composed.text, html=composed.html,
                    unsubscribe_url=composed.unsubscribe_url)


def preview_all(bundle: ir.Bundle, snap: Snapshot, *, public_url: str, unsubscribe_secret: str,
                store: Store | None = None) -> list[Preview]:
    """Every template of the bundle, by name, rendered for the account of `snap`."""
    return [preview(bundle, snap, name, public_url=public_url, unsubscribe_secret=unsubscribe_secret, store=store)
            for name in sorted(bundle.templates)]


# --------------------------------------------------------------------------- reports


def _heading(item: Preview) -> str:
    sent_by = f" (sent by {item.playbook})" if item.playbook else " (no playbook sends it)"
    kind = "email" if item.channel == "email" else "in-app message"
    return f"{item.template}: {kind}{sent_by}"


def text_report(previews: list[Preview]) -> str:
    """The copy of every preview, one after the other, for a terminal or a review comment."""
    blocks = []
    for item in previews:
        lines = [_heading(item), "=" * len(_heading(item))]
        if item.error:
            lines.append(f"cannot be rendered: {item.error}")
        elif item.not_sent:
            lines.append(f"not sent to {item.account}: {item.not_sent}")
        else:
            if item.channel == "email":
                lines.append(f"To:      {item.to}")
                lines.append(f"Subject: {item.subject}")
            else:
                lines.append(f"Title:   {item.subject}")
            lines.append("")
            lines.append((item.text or "").rstrip("\n"))
            if item.html is not None:
                lines.append("")
                lines.append(f"(and an HTML part of {len(item.html):,} characters: --html FILE shows it)")
        blocks.append("\n".join(lines))
    return "\n\n\n".join(blocks) + "\n"


def html_report(previews: list[Preview], title: str = "Templates") -> str:
    """One HTML page with every preview: subject, text, and the HTML part in a frame of its own."""
    esc = html_escape.escape
    sections = []
    for item in previews:
        parts = [f"<h2>{esc(_heading(item))}</h2>"]
        if item.error:
            parts.append(f'<p class="problem">Cannot be rendered: {esc(item.error)}</p>')
        elif item.not_sent:
            parts.append(f'<p class="problem">Not sent to {esc(item.account)}: {esc(item.not_sent)}</p>')
        else:
            label = "Subject" if item.channel == "email" else "Title"
            if item.to:
                parts.append(f"<p><b>To:</b> {esc(item.to)}</p>")
            parts.append(f"<p><b>{label}:</b> {esc(item.subject or '')}</p>")
            if item.html is not None:
                parts.append(f'<iframe sandbox="" title="{esc(item.template)}" srcdoc="{esc(item.html)}"></iframe>')
            parts.append(f"<details{' open' if item.html is None else ''}><summary>Text part</summary>"
                         f"<pre>{esc(item.text or '')}</pre></details>")
        sections.append(f'<section id="{esc(item.template)}">' + "\n".join(parts) + "</section>")
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:860px}"
             "section{border-top:1px solid #ccc;padding:1em 0}"
             "iframe{width:100%;height:480px;border:1px solid #ddd}"
             "pre{white-space:pre-wrap;background:#f6f8fa;padding:1em}.problem{color:#b00}")
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{style}</style></head>\n<body><h1>{esc(title)}</h1>\n" + "\n".join(sections)
            + "\n</body></html>\n")
