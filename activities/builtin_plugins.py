"""The plugin activities that ship with playbook: `webhook.post` and `slack.notify`.

They register through the entry-point group like any third-party plugin (pyproject.toml:
`webhook_slack = "activities.builtin_plugins:register"`), so `PLAYBOOK_PLUGINS` can leave them
out and `playbook plugins` lists them beside the others.
"""

from __future__ import annotations

from datetime import timedelta

from activities.registry import ActivitySpec, Registry
from activities.slack import SlackParams, notify
from activities.webhook import WebhookConfigError, WebhookParams, WebhookRejected, post_webhook

__all__ = ["register"]

_PERMANENT = (WebhookRejected, WebhookConfigError)


def register(registry: Registry) -> None:
    registry.add(ActivitySpec(
        name="webhook.post", fn=post_webhook, params=WebhookParams,
        description="POST a JSON object to a URL, signed with HMAC-SHA256, with the step's Idempotency-Key.",
        timeout=timedelta(minutes=1), permanent_errors=_PERMANENT))
    registry.add(ActivitySpec(
        name="slack.notify", fn=notify, params=SlackParams,
        description="Post a message to a Slack channel through an incoming webhook.",
        timeout=timedelta(minutes=1), permanent_errors=_PERMANENT))
