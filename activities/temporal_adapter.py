"""Turn registered activities into Temporal activities bound to one worker's context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, PluginCall
from activities.journey_ops import log_decisions
from activities.registry import ActivitySpec, Registry
from activities.rendering import render_params
from engine.records import ActionRecord
from engine.workflows.payloads import EffectParams, PluginParams

__all__ = ["temporal_activities"]


def temporal_activities(registry: Registry, context: ActivityContext) -> list[Callable[..., Any]]:
    """The registry's activities bound to `context`, which learns how each one runs."""
    context.options.update({spec.name: spec.options() for spec in registry})
    return [_bind(spec, context) for spec in registry]


def _bind(spec: ActivitySpec, context: ActivityContext) -> Callable[..., Any]:
    if spec.internal:

        async def run_internal(raw: dict[str, Any]) -> Any:
            params = spec.params.model_validate(raw)
            context.in_flight += 1
            try:
                if isinstance(params, EffectParams):
                    log_decisions(context, params.decisions, params.decision_keys)
                return await spec.fn(params, context)
            except spec.permanent_errors as error:
                raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
            finally:
                context.in_flight -= 1

        return activity.defn(name=spec.name)(run_internal)

    async def run_plugin(raw: dict[str, Any]) -> Any:
        context.in_flight += 1
        try:
            return await _call_plugin(raw)
        finally:
            context.in_flight -= 1

    async def _call_plugin(raw: dict[str, Any]) -> Any:
        call = PluginParams.model_validate(raw)
        log_decisions(context, call.decisions, call.decision_keys)
        try:
            values = await render_params(context, call)
            params = spec.params.model_validate(values)
        except ValueError as error:
            raise ApplicationError(f"{spec.name}: {error}", type="InvalidParams", non_retryable=True) from error
        try:
            result = await spec.fn(params, PluginCall(context, call.key, call.account, call.playbook, call.at))
        except spec.permanent_errors as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
        context.store.log_action(ActionRecord(
            at=call.at, account=call.account, playbook=call.playbook, kind="call",
            data={"activity": spec.name, "params": params.model_dump(mode="json")}, key=call.key))
        return result if isinstance(result, str | int | float | bool | dict | list | type(None)) else None

    return activity.defn(name=spec.name)(run_plugin)

