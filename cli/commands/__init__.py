"""The subcommands of `playbook`, one module each.

A command module exposes `register(subparsers)`: it adds its parser and sets its handler with
`parser.set_defaults(handler=run)`, where `run(args) -> int` returns the exit status. Handlers
raise `UsageError` for a mistake in how the command was called (exit status 2); anything the
user wrote wrong in their playbooks is reported as diagnostics (exit status 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from dsl.wording import plural

__all__ = ["DEFAULT_FOLDER", "Handler", "UsageError", "existing_folder", "plural"]

Handler = Callable[[argparse.Namespace], int]

DEFAULT_FOLDER = "playbooks"


class UsageError(Exception):
    """The command was called in a way it cannot run: a missing folder, a bad option value."""


def existing_folder(raw: str) -> Path:
    """The folder named on the command line, or a UsageError saying why it cannot be used."""
    path = Path(raw)
    if not path.exists():
        raise UsageError(f"no such folder: {raw}")
    if not path.is_dir():
        raise UsageError(f"not a folder: {raw} (give the folder that holds the .play files)")
    return path


