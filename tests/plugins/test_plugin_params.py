"""What `webhook.post` and `slack.notify` accept before they send anything."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from activities.slack import SlackParams, slack_escape
from activities.webhook import WebhookConfigError, WebhookParams


def test_webhook_body_must_be_a_json_object_and_the_error_says_how_to_insert_values() -> None:
    with pytest.raises(ValidationError, match=r"body is not valid JSON .*insert values with \{\{ value\|tojson \}\}"):
        WebhookParams.model_validate({"url": "https://x.example", "body": '{"name": "Acme "Big" Co"}'})
    with pytest.raises(ValidationError, match=r"body must be a JSON object"):
        WebhookParams.model_validate({"url": "https://x.example", "body": "[1, 2]"})


def test_webhook_takes_one_secret_and_only_http_urls() -> None:
    with pytest.raises(ValidationError, match="give secret or secret_env, not both"):
        WebhookParams.model_validate({"url": "https://x.example", "body": "{}", "secret": "a",
                                      "secret_env": "PLAYBOOK_SECRET_B"})
    with pytest.raises(ValidationError, match="url must start with http:// or https://"):
        WebhookParams.model_validate({"url": "file:///etc/passwd", "body": "{}"})


def test_webhook_secret_variable_that_is_not_set_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYBOOK_SECRET_NO_SUCH_HOOK", raising=False)
    params = WebhookParams.model_validate({"url": "https://x.example", "body": "{}",
                                           "secret_env": "PLAYBOOK_SECRET_NO_SUCH_HOOK"})
    with pytest.raises(WebhookConfigError, match="PLAYBOOK_SECRET_NO_SUCH_HOOK"):
        params.secret_value()


def test_slack_url_comes_from_slack_webhook_url_unless_another_variable_is_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/default")
    monkeypatch.setenv("CS_SLACK", "https://hooks.slack.com/services/T/B/cs")
    assert SlackParams(text="hi").url().endswith("/default")
    assert SlackParams(text="hi", webhook_env="CS_SLACK").url().endswith("/cs")
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    with pytest.raises(WebhookConfigError, match="SLACK_WEBHOOK_URL"):
        SlackParams(text="hi").url()


def test_slack_text_is_escaped_so_account_data_cannot_mention_everyone() -> None:
    assert slack_escape("Acme <!channel> & <https://evil.example|click>") == \
        "Acme &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
