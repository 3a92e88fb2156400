"""`playbook resume PLAYBOOK` / `playbook resume --sends`: undo `playbook pause` (see there)."""

from __future__ import annotations

import argparse

from cli.commands.pause import add_command

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "resume")
