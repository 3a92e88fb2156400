"""The playbooks a process runs, compiled exactly as `playbook check` compiles them.

The worker, the API and `playbook dev` each compile the playbooks folder at start-up with the
installed plugin catalog (a `do` statement naming an activity no plugin provides is an error
there as in `check`), and refuse to start on any error with check's own report: every
diagnostic with its caret, then the summary line (`checked 11 files (232 lines): 1 error`).
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.plugin_catalog import plugin_catalog
from activities.registry import Registry, load_registry
from dsl import ir
from dsl.diagnostics import render_all
from dsl.project import Compilation, compile_folder
from dsl.wording import plural
from engine.settings import Settings
from engine.workflows.scheduler import SCHEDULER_ID, SchedulerInput

__all__ = ["PlaybookErrors", "check_report", "check_summary", "load_bundle", "start_scheduler"]


class PlaybookErrors(Exception):
    """The playbooks folder has errors: the process does not start. The message is check's report."""


def check_summary(compilation: Compilation) -> str:
    """`checked 21 files (1,234 lines): 2 errors, 1 warning`, or `...: no errors`."""
    errors = sum(1 for d in compilation.diagnostics if d.is_error)
    warnings = len(compilation.diagnostics) - errors
    counts = plural(errors, "error") if errors else "no errors"
    if warnings:
        counts += ", " + plural(warnings, "warning")
    return f"checked {plural(len(compilation.sources), 'file')} ({plural(compilation.lines, 'line')}): {counts}"


def check_report(compilation: Compilation) -> str:
    """What `playbook check` prints: every diagnostic with its caret, then the summary line."""
    lines = [render_all(compilation.diagnostics, compilation.sources)] if compilation.diagnostics else []
    return "\n".join([*lines, check_summary(compilation)])


def compile_playbooks(folder: Path, registry: Registry | None = None) -> Compilation:
    """Compile `folder` against the catalog of `registry` (default: the installed plugins)."""
    return compile_folder(folder, plugins=plugin_catalog(registry or load_registry(exclude={"builtin"})))


def load_bundle(folder: Path, registry: Registry | None = None) -> ir.Bundle:
    """The bundle of `folder`, compiled as `playbook check` does; `PlaybookErrors` on any error."""
    if not folder.is_dir():
        raise PlaybookErrors(f"no playbooks folder at {folder}: run from the project's folder, or set "
                             "PLAYBOOK_PLAYBOOKS (or `playbooks` in playbook.toml) to it")
    compilation = compile_playbooks(folder, registry)
    if not compilation.ok or compilation.bundle is None:
        raise PlaybookErrors(f"{check_report(compilation)}\nthe playbooks in {folder} do not check: "
                             "fix them (`playbook check`), then start again")
    return compilation.bundle


async def start_scheduler(client: Client, task_queue: str, settings: Settings | None = None) -> None:
    """Start the one scheduler of time-based triggers, unless it already runs (on the process's
    clock offset, looking again at least every `scheduler_max_sleep_seconds`)."""
    inp = SchedulerInput() if settings is None else SchedulerInput(
        clock_offset_seconds=settings.clock_offset_seconds, max_sleep_seconds=settings.scheduler_max_sleep_seconds)
    await client.start_workflow("scheduler", inp, id=SCHEDULER_ID, task_queue=task_queue,
                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
