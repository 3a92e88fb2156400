"""`slack.notify`: post a line of text to a Slack incoming webhook.

    do slack.notify channel="#cs-alerts" text="Red account: {{ account.name }}"

The webhook URL is a secret (anyone who has it can post to the channel), so it is normally read
from an environment variable: `webhook_env` names it and defaults to `SLACK_WEBHOOK_URL`.
`webhook_url` gives the URL itself instead; it is never written to the action log.

The text is sent as plain text: `&`, `<` and `>` are escaped, so a value rendered from account
data cannot mention `@channel` or forge a link. Slack's incoming webhooks take no idempotency
key, so a retry after an attempt that timed out once Slack had it may post twice: at least
once, not exactly once. Failures are classified as in `activities/webhook.py` (5xx, 429 and
timeouts retried; other statuses and a missing URL recorded as `failed`).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

if TYPE_CHECKING:
    from activities.context import PluginCall
from activities.webhook import WebhookConfigError, post_json, written_in_playbook

__all__ = ["DEFAULT_WEBHOOK_ENV", "SlackParams", "notify", "slack_escape"]

DEFAULT_WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
MAX_TEXT = 40_000  # Slack's own limit on a message's text


class SlackParams(BaseModel):
    """Post a message to a Slack channel through an incoming webhook."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The message; a template such as \"Red account: {{ account.name }}\".")
    channel: str | None = Field(default=None, description="Override the webhook's channel, e.g. \"#cs-alerts\".")
    webhook_url: SecretStr | None = Field(default=None, description="The incoming webhook URL (prefer webhook_env).")
    webhook_env: str | None = Field(default=None, description=f"The environment variable holding the URL "
                                    f"(default {DEFAULT_WEBHOOK_ENV}).")
    timeout_seconds: float = Field(default=10, gt=0, le=60, description="How long one attempt may take.")

    @model_validator(mode="after")
    def _one_url(self) -> SlackParams:
        if self.webhook_url is not None and self.webhook_env is not None:
            raise ValueError("give webhook_url or webhook_env, not both")
        if not self.text.strip():
            raise ValueError("text is empty")
        if len(self.text) > MAX_TEXT:
            raise ValueError(f"text is longer than Slack's {MAX_TEXT:,} characters")
        return self

    def url(self) -> str:
        if self.webhook_url is not None:
            url = self.webhook_url.get_secret_value()
        else:
            name = self.webhook_env or DEFAULT_WEBHOOK_ENV
            url = os.environ.get(name, "")
            if not url:
                raise WebhookConfigError(f"the environment variable {name} (the Slack webhook URL) is not set")
        if not url.startswith(("http://", "https://")):
            raise WebhookConfigError("the Slack webhook URL must start with https://")
        return url


def slack_escape(text: str) -> str:
    """Slack's three control characters, escaped as its message format asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def notify(params: SlackParams, call: PluginCall) -> dict[str, Any]:
    message: dict[str, Any] = {"text": slack_escape(params.text)}
    if params.channel:
        message["channel"] = params.channel
    payload = json.dumps(message, ensure_ascii=False).encode()
    # Slack ignores the header; a proxy or a test receiver may use it.
    # A URL from the worker's environment is the operator's; one given in the playbook must be
    # written there, not taken from the account.
    from_account = params.webhook_url is not None and not written_in_playbook(
        call, "slack.notify", "webhook_url", params.webhook_url.get_secret_value())
    response = await post_json(params.url(), payload, {"Idempotency-Key": call.key}, params.timeout_seconds,
                               policy=call.context.egress, from_account_data=from_account)
    return {"status": response.status_code}
