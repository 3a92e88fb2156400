"""The activity context of a process that runs journeys for real: `playbook worker` and `playbook dev`.

What every activity may use (`activities.context.ActivityContext`), wired from the settings: the
store, the deployed bundle, the journey starter, the SMTP relay, the public URL of unsubscribe
links and its secret, engagement tracking when it is on, the outbound policy of plugin requests
and the relay's send rate. A simulation builds its own (a recording mailer, no relay).
"""

from __future__ import annotations

from activities.context import ActivityContext
from activities.egress import EgressPolicy
from activities.send_gate import send_rate
from activities.smtp_mailer import SmtpMailer
from activities.tracked_links import Tracking
from dsl import ir
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store

__all__ = ["worker_context"]


def worker_context(settings: Settings, store: Store, bundle: ir.Bundle, starter: JourneyStarter) -> ActivityContext:
    """The context of a worker that sends through the configured SMTP relay (its links tracked
    with `track_engagement` on)."""
    extras: dict[str, object] = {"unsubscribe_secret": settings.unsubscribe_secret.get_secret_value(),
                                 "sender_domains": tuple(settings.sender_domains)}
    if settings.track_engagement:
        extras["tracking"] = Tracking(base_url=settings.tracking_base_url, secret=settings.tracking_key)
    return ActivityContext(store=store, bundle=bundle, starter=starter, mailer=SmtpMailer(settings),
                           public_url=settings.base_url, extras=extras,
                           egress=EgressPolicy.from_settings(settings), send_rate=send_rate(settings))
