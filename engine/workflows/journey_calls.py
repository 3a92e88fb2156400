"""A journey's dealings with its worker: reading the account, bookkeeping and effects.

Everything here runs inside the journey workflow: the store is read only through the
`journey.snapshot` local activity and written only through activities, each with an idempotency
key `<workflow id>/<run id>/<path>`. Bookkeeping is batched: decisions are kept (`DecisionLog`)
until the journey next waits or acts, then logged by one local activity together with its plan
for a simulation's timeline (`journey.note`); entering returns the first snapshot
(`journey.enter`); ending logs the last decisions (`journey.end`), or, when the journey's last
action is an effect that nothing can follow, travels with that effect (`EffectParams.end`).

A send the operator holds (a pause, the send stop) or the relay's rate limit defers is waited
for durably, as long as it takes, looking again at the moment its error names (`retry_at` in the
error's details), at least a minute and at most an hour apart; never counted as a failed attempt.
Any other failure of an effect is recorded (`journey.failed`) and the journey goes on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from engine.records import Snapshot
from engine.semantics.time_rules import ON_TIME_SLACK
from engine.workflows.agenda import SimulationAgenda
from engine.workflows.decision_log import DecisionLog
from engine.workflows.effects import (
    BOOKKEEPING,
    JOURNEY_END,
    JOURNEY_ENTER,
    JOURNEY_FAILED,
    JOURNEY_NOTE,
    JOURNEY_SNAPSHOT,
    MESSAGE_SEND,
    MESSAGE_SEND_ALL,
    effect_activities,
)
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import (
    SEND_DEFERRED,
    SEND_HELD,
    ActivityOptions,
    EmailParams,
    EndParams,
    EnterParams,
    EnterResult,
    FailedParams,
    MessagesParams,
    NoteParams,
    SnapshotParams,
)

__all__ = ["BOOKKEEPING_OPTIONS", "DEFAULT_OPTIONS", "JourneyCalls", "attempts_made", "held_until"]

# How an activity runs when the worker's registry says nothing about it.
DEFAULT_OPTIONS = ActivityOptions(timeout_seconds=120.0, max_attempts=20)
# The journey's own bookkeeping (local activities: short, idempotent by key).
BOOKKEEPING_OPTIONS = ActivityOptions(timeout_seconds=30.0, max_attempts=20)
HELD_ERRORS = (SEND_HELD, SEND_DEFERRED)
HELD_FIRST_WAIT, HELD_LONGEST_WAIT = timedelta(minutes=1), timedelta(hours=1)


def _retry(options: ActivityOptions) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=options.backoff_seconds),
                       maximum_interval=timedelta(seconds=options.max_backoff_seconds),
                       maximum_attempts=options.max_attempts, non_retryable_error_types=list(HELD_ERRORS))


def attempts_made(error: ActivityError, options: ActivityOptions) -> int | None:
    """How many attempts a failed activity had: all of them when its retries ran out, else the
    attempt its error names (`attempt` in the details the activity adapter adds)."""
    if error.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return options.max_attempts
    cause = error.cause
    details = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
    attempt = details.get("attempt") if isinstance(details, dict) else None
    return attempt if isinstance(attempt, int) else None


def held_until(error: ActivityError) -> datetime | bool | None:
    """When a held or deferred send is worth trying again (None: not said); False: not held."""
    cause = error.cause
    if not isinstance(cause, ApplicationError) or cause.type not in HELD_ERRORS:
        return False
    details = cause.details[0] if cause.details else None
    retry_at = details.get("retry_at") if isinstance(details, dict) else None
    try:
        return datetime.fromisoformat(retry_at) if isinstance(retry_at, str) else None
    except ValueError:
        return None


class JourneyCalls:
    def __init__(self, state: JourneyState, log: DecisionLog, agenda: SimulationAgenda) -> None:
        self._state, self._log, self._agenda = state, log, agenda
        self._ended_at: datetime | None = None  # the end travelled with the last effect, at this moment
        self._end_with_effect = False  # the worker records the end with the last effect (it said so at entry)
        self.in_app_runs = False  # the worker sends a run of in-app messages in one activity (likewise)

    # ------------------------------------------------------------------ entering and ending

    async def enter(self) -> None:
        """Record the entry and read the account at it (a goal already reached ends the journey)."""
        state, inp = self._state, self._state.inp
        info = workflow.info()
        state.workflow_id, state.run_id = info.workflow_id, info.run_id
        names = [*effect_activities(inp.playbook), *BOOKKEEPING, JOURNEY_FAILED, MESSAGE_SEND_ALL]
        entered = await workflow.execute_local_activity(
            JOURNEY_ENTER, EnterParams(**self.base("enter", inp.entry_at), run_id=state.run_id, version=inp.version,
                                       reason=inp.reason, activities=names),
            result_type=EnterResult, start_to_close_timeout=timedelta(seconds=BOOKKEEPING_OPTIONS.timeout_seconds),
            retry_policy=_retry(BOOKKEEPING_OPTIONS))
        state.options = dict(entered.options)
        self._end_with_effect = entered.end_with_last_effect
        self.in_app_runs = entered.in_app_runs
        state.entry_timezone = entered.snapshot.timezone
        state.took(entered.snapshot)

    async def end(self, status: str, reason: str, at: datetime) -> None:
        """Log the last decisions and the end; a simulation's timeline forgets the journey. Nothing
        to do when the end travelled with the last effect and nothing was decided since."""
        decisions, keys = self._log.take()
        self._log.restart_count()
        if self._ended_at == at and status == "completed" and not decisions:
            return
        await self._local(JOURNEY_END, EndParams(**self.base("end", at), run_id=self._state.run_id, status=status,
                                                 reason=reason, decisions=decisions, keys=keys))

    # ------------------------------------------------------------------ reads

    async def snapshot(self, at: datetime, *, refresh: bool = False) -> Snapshot:
        """The account as of `at`: the last one read when it is of that moment (unless `refresh`)."""
        state = self._state
        cached = state.snapshot
        if cached is not None and cached.at == at and not refresh:
            return cached
        snap = await self._local(JOURNEY_SNAPSHOT, SnapshotParams(account=state.inp.account, at=at,
                                                                  task_ids=state.tasks), result_type=Snapshot)
        state.took(snap)
        return snap

    # ------------------------------------------------------------------ bookkeeping

    def base(self, path: str, at: datetime) -> dict[str, Any]:
        """Every action's common params: who, where in the journey, when, and its key."""
        state = self._state
        return {"account": state.inp.account, "playbook": state.inp.playbook.id, "workflow_id": state.workflow_id,
                "key": state.key(path), "at": at}

    def effect(self, path: str, at: datetime, *, last: bool = False) -> dict[str, Any]:
        """An effect's common params, with the decisions taken so far: the effect's activity logs
        them before it acts; with the moment it really acts when that is late. With `last` (the
        journey's last action: nothing can follow it), the journey's end travels with it when the
        worker said at entry that it records it so: the activity records it once the effect is done."""
        decisions, keys = self._log.take()
        now = self._state.now()
        sent_at = now if now - at > ON_TIME_SLACK else None
        params = {**self.base(path, at), "decisions": decisions, "decision_keys": keys, "sent_at": sent_at}
        if last and self._end_with_effect:
            params["end"] = EndParams(**self.base("end", at), run_id=self._state.run_id, status="completed")
        return params

    async def note(self, agenda: datetime | None = None, *, flush: bool = False) -> None:
        """Log decisions and report the plan in one local activity (none when neither has anything
        to say): every decision with `flush`, else those of finished steps. `agenda` is when the
        journey next acts (it is about to wait until then)."""
        state = self._state
        plan = self._agenda.replan(agenda, state.now(),
                                   [*(email.until for email in state.held), *state.sla_moments.values()])
        count = self._log.due(flush=flush)
        if not plan and not count:
            return
        decisions, keys = self._log.take(count)
        self._agenda.reported(plan)
        await self._local(JOURNEY_NOTE, NoteParams(workflow_id=state.workflow_id, account=state.inp.account,
                                                   decisions=decisions, keys=keys, plan=plan))

    async def flush(self) -> None:
        """Log every decision taken so far (before an effect, so the log keeps their order)."""
        await self.note(flush=True)

    async def _local(self, name: str, params: Any, result_type: type | None = None) -> Any:
        """The journey's own bookkeeping in the store: short, idempotent by key, no server round trip."""
        options = self._state.options.get(name, BOOKKEEPING_OPTIONS)
        return await workflow.execute_local_activity(
            name, params, result_type=result_type, start_to_close_timeout=timedelta(seconds=options.timeout_seconds),
            retry_policy=_retry(options))

    # ------------------------------------------------------------------ effects

    async def call(self, name: str, params: Any) -> Any:
        """An effect, with the timeout and attempts its registry entry declares; a send the brakes
        hold waits for them to lift (`HELD_ERRORS`). None when it failed for good (recorded)."""
        _, result = await self.attempt(name, params)
        return result

    async def send_all(self, messages: list[EmailParams]) -> None:
        """A run of in-app messages in one activity (`message.send_all`); the ones it did not
        send (it stops at a message that fails for good, or failed whole) each in their own."""
        done, results = await self.attempt(MESSAGE_SEND_ALL, MessagesParams(messages=messages), record=False)
        sent = len(results) if done and isinstance(results, list) else 0
        if sent == len(messages) and (end := messages[-1].end) is not None:
            self._ended_at = end.at  # the activity recorded the journey's end with the last message
        for message in messages[sent:]:
            await self.call(MESSAGE_SEND, message)

    async def attempt(self, name: str, params: Any, max_attempts: int | None = None, *,
                      record: bool = True) -> tuple[bool, Any]:
        """`call`, saying whether the effect was done: (False, None) when it failed for good
        (recorded, unless not `record`). `max_attempts` lowers the attempts the activity declares
        (`do ... at most 2 attempts`)."""
        wait = HELD_FIRST_WAIT
        options = self._options(name, max_attempts)
        while True:
            try:
                result = await self._activity(name, params, options)
            except ActivityError as error:
                held = held_until(error)
                if held is False:
                    if record:
                        await self._failed(name, params, error, options)
                    return False, None
                # a deferral names the moment a slot frees up; a hold is looked at again less and less often
                deferred = isinstance(error.cause, ApplicationError) and error.cause.type == SEND_DEFERRED
                delay = held - workflow.now() if isinstance(held, datetime) else wait
                if not deferred:
                    delay = max(delay, wait)
                    wait = min(wait * 2, HELD_LONGEST_WAIT)
                await workflow.sleep(min(max(delay, timedelta(seconds=1)), HELD_LONGEST_WAIT))
                continue
            end = getattr(params, "end", None)
            if isinstance(end, EndParams):  # the activity recorded the journey's end with the effect
                self._ended_at = end.at
            return True, result

    def _options(self, name: str, max_attempts: int | None = None) -> ActivityOptions:
        options = self._state.options.get(name, DEFAULT_OPTIONS)
        if max_attempts is not None and max_attempts < options.max_attempts:
            return options.model_copy(update={"max_attempts": max(1, max_attempts)})
        return options

    async def _failed(self, name: str, params: Any, error: ActivityError, options: ActivityOptions) -> None:
        """One failed effect is recorded (kind `failed`) and the journey goes on with its next step."""
        if name.startswith("journey."):
            raise error
        state = self._state
        cause = error.cause or error
        key = str(params.key)
        attempts = attempts_made(error, options)
        await self._activity(JOURNEY_FAILED, FailedParams(
            account=state.inp.account, playbook=state.inp.playbook.id, workflow_id=state.workflow_id,
            key=f"{key}/failed", at=params.at, step=key.removeprefix(state.key("")),
            error=str(cause), activity=name, attempts=attempts,
            decisions=params.decisions, decision_keys=params.decision_keys))

    async def _activity(self, name: str, params: Any, options: ActivityOptions | None = None) -> Any:
        options = options or self._options(name)
        heartbeat = None if options.heartbeat_seconds is None else timedelta(seconds=options.heartbeat_seconds)
        return await workflow.execute_activity(
            name, params, start_to_close_timeout=timedelta(seconds=options.timeout_seconds),
            heartbeat_timeout=heartbeat, retry_policy=_retry(options))
