"""The copy a retried email activity hands the relay, compared with the first one.

`test_worker_killed.py` produces such a copy for real (the worker killed before the relay
answered `DATA`): the Message-ID is the same, which is what a relay or mailbox deduplicates on.
The mailer's documentation promises more, a byte-identical copy (so that a relay or archive
that compares content, or signs it with DKIM, sees the same message). These tests check both
on the message exactly as the mailer writes it for the wire.
"""

from __future__ import annotations

from datetime import UTC, datetime

from activities.context import OutgoingMail
from activities.smtp_mailer import build_message

MAIL = OutgoingMail(key="journey/drill/acme/run-1/day 0/0", to="ana@acme.example", to_name="Ana",
                    subject="Welcome", text="Hello\n", html="<p>Hello</p>",
                    unsubscribe_url="http://api.test/v1/unsubscribe?email=ana%40acme.example&token=t",
                    at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
FROM = "Customer Success <success@acme.example>"


def test_a_resent_copy_has_the_same_message_id_date_and_headers() -> None:
    first, again = build_message(MAIL, FROM), build_message(MAIL, FROM)
    assert first["Message-ID"] == again["Message-ID"]
    names = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe")
    assert [str(first[name]) for name in names] == [str(again[name]) for name in names]


def test_a_resent_copy_is_byte_identical() -> None:
    assert bytes(build_message(MAIL, FROM)) == bytes(build_message(MAIL, FROM))
