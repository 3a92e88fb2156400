"""Turn registered activities into Temporal activities bound to one worker's context.

Every failure leaves here as an `ApplicationError` whose message reads `ErrorClass: message`
(a parameter that does not fit reads as sentences, without pydantic's links) and whose details
name the attempt, so the journey's `failed` action can say how many attempts the step had. An
activity with a `heartbeat` is reported alive while it runs: a killed worker's attempt is then
retried within the heartbeat, not after the whole timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, PluginCall
from activities.journey_ops import end_journey, log_decisions
from activities.param_values import coerced_params, validation_text
from activities.plugin_config import bundle_configs
from activities.registry import ActivitySpec, Registry
from activities.rendering import render_params
from engine.records import ActionRecord
from engine.workflows.payloads import EffectParams, PluginParams

__all__ = ["temporal_activities"]


def temporal_activities(registry: Registry, context: ActivityContext) -> list[Callable[..., Any]]:
    """The registry's activities bound to `context`, which learns how each one runs and each
    plugin's configuration (`PluginNotConfigured` when one the playbooks call lacks it)."""
    context.options.update({spec.name: spec.options() for spec in registry})
    context.plugin_configs.update(bundle_configs(registry, context.bundle))
    return [_bind(spec, context) for spec in registry]


async def _alive(spec: ActivitySpec, work: Awaitable[Any]) -> Any:
    """Run `work`, reporting the attempt alive every quarter of the spec's heartbeat."""
    if spec.heartbeat is None:
        return await work
    task = asyncio.ensure_future(work)
    every = spec.heartbeat.total_seconds() / 4
    while True:
        done, _ = await asyncio.wait({task}, timeout=every)
        if done:
            return task.result()
        activity.heartbeat()


def _failure(error: BaseException, *, non_retryable: bool) -> ApplicationError:
    attempt = activity.info().attempt
    return ApplicationError(str(error), {"attempt": attempt}, type=type(error).__name__,
                            non_retryable=non_retryable)


def _bind(spec: ActivitySpec, context: ActivityContext) -> Callable[..., Any]:
    if spec.internal:

        async def run_internal(raw: dict[str, Any]) -> Any:
            params = spec.params.model_validate(raw)
            context.in_flight += 1
            try:
                if isinstance(params, EffectParams):
                    log_decisions(context, params.decisions, params.decision_keys)
                result = await _alive(spec, spec.fn(params, context))
                if isinstance(params, EffectParams) and params.end is not None:
                    await end_journey(params.end, context)  # the journey's last action: its end with it
                return result
            except spec.permanent_errors as error:
                raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
            finally:
                context.in_flight -= 1

        return activity.defn(name=spec.name)(run_internal)

    async def run_plugin(raw: dict[str, Any]) -> Any:
        context.in_flight += 1
        try:
            return await _alive(spec, _call_plugin(raw))
        finally:
            context.in_flight -= 1

    async def _call_plugin(raw: dict[str, Any]) -> Any:
        call = PluginParams.model_validate(raw)
        log_decisions(context, call.decisions, call.decision_keys)
        try:
            values = await render_params(context, call)
            params = spec.params.model_validate(coerced_params(spec.params, spec.upgraded(values)))
        except ValidationError as error:
            raise ApplicationError(validation_text(error), {"attempt": activity.info().attempt},
                                   type="InvalidParams", non_retryable=True) from error
        except ValueError as error:
            raise ApplicationError(str(error), {"attempt": activity.info().attempt},
                                   type="InvalidParams", non_retryable=True) from error
        journey_id = call.workflow_id
        run_id = call.run_id or call.key.removeprefix(f"{journey_id}/").removesuffix(f"/{call.step}")
        plugin_call = PluginCall(context, call.key, call.account, call.playbook, call.at, journey_id=journey_id,
                                 run_id=run_id, step=call.step, attempt=activity.info().attempt,
                                 config=context.plugin_configs.get(spec.name))
        try:
            result = await spec.fn(params, plugin_call)
        except spec.permanent_errors as error:
            raise _failure(error, non_retryable=True) from error
        except ApplicationError:
            raise  # the plugin chose how Temporal treats it
        except Exception as error:
            raise _failure(error, non_retryable=False) from error
        data: dict[str, Any] = {"activity": spec.name, "params": params.model_dump(mode="json")}
        if spec.dry:
            data["key"] = call.key  # what a live call would pass on, shown by a dry run
        context.store.log_action(ActionRecord(
            at=call.at, account=call.account, playbook=call.playbook, kind="call", data=data, key=call.key))
        return result if isinstance(result, str | int | float | bool | dict | list | type(None)) else None

    return activity.defn(name=spec.name)(run_plugin)
