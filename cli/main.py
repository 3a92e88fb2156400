"""`playbook`: the one command, dispatching to the subcommands in `cli/commands/`.

Each subcommand lives in its own module that exposes `register(subparsers)`. The dispatcher
imports them by name from `COMMANDS`: a module that is not installed is skipped, and a module
that fails to import shows up as a command that explains why it cannot run, so one broken
command never takes the others down.

Nobody who runs `playbook` sees a Python traceback: a mistake in the call prints one line and
exits 2; an unexpected failure prints one line and exits 70. `PLAYBOOK_DEBUG=1` shows the
traceback of either.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from cli.commands import UsageError

__all__ = ["COMMANDS", "EXIT_INTERNAL", "EXIT_USAGE", "build_parser", "main"]

# The order here is the order of `playbook --help`.
COMMANDS: tuple[str, ...] = (
    "check",
    "fmt",
    "compile",
    "simulate",
    "test",
    "backtest",
    "dev",
    "worker",
    "api",
    "migrate",
    "ingest",
    "tasks",
    "drafts",
    "accounts",
    "score",
    "log",
    "why",
    "note",
    "stats",
    "outcomes",
    "preview",
    "outbox",
    "plugins",
    "pause",
    "resume",
    "intents",
    "forget",
    "lsp",
)

EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

_PACKAGE = "cli.commands"


def _version() -> str:
    try:
        return version("playbook")
    except PackageNotFoundError:
        return "unknown"


def _debug() -> bool:
    return os.environ.get("PLAYBOOK_DEBUG", "").strip() not in ("", "0", "false", "no")


def _register_unavailable(subparsers: argparse._SubParsersAction, name: str, error: BaseException) -> None:
    """A placeholder for a command whose module failed to import: it says why, and exits 70."""
    reason = f"{type(error).__name__}: {error}"
    parser = subparsers.add_parser(name, help=f"(unavailable: {reason})", add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER)

    def unavailable(_: argparse.Namespace) -> int:
        print(f"playbook {name}: this command cannot run here: {reason}", file=sys.stderr)
        return EXIT_INTERNAL

    parser.set_defaults(handler=unavailable)


def _is_missing(error: ModuleNotFoundError, module: str) -> bool:
    """True when the command module itself is absent, not something it imports."""
    return error.name is not None and (error.name == module or module.startswith(error.name + "."))


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `playbook` parser with every command of `commands` (default: `COMMANDS`) that imports."""
    parser = argparse.ArgumentParser(
        prog="playbook",
        description="Customer-success playbooks as code: write, check, simulate, run on Temporal.",
    )
    parser.add_argument("--version", action="version", version=f"playbook {_version()}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for name in COMMANDS if commands is None else commands:
        module_name = f"{_PACKAGE}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if _is_missing(error, module_name):
                continue
            _register_unavailable(subparsers, name, error)
            continue
        except Exception as error:
            _register_unavailable(subparsers, name, error)
            continue
        register = getattr(module, "register", None)
        if not callable(register):
            continue
        try:
            register(subparsers)
        except Exception as error:
            if name in subparsers.choices:
                del subparsers.choices[name]
            _register_unavailable(subparsers, name, error)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is not an option), if it is one of ours."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def _run(argv: Sequence[str] | None) -> int:
    # Only the named command's module is imported, so `playbook check` does not pay for the
    # engine, Temporal and the HTTP stack; help and mistakes get the parser of every command.
    named = _named_command(sys.argv[1:] if argv is None else argv)
    parser = build_parser(None if named is None else (named,))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    status = handler(args)
    return int(status or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `playbook` with `argv` (the process's arguments when None); returns the exit status."""
    try:
        return _run(argv)
    except UsageError as error:
        if _debug():
            traceback.print_exc()
        print(f"playbook: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("playbook: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as error:
        # argparse exits this way for --help, --version and usage mistakes.
        code = error.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except BrokenPipeError:
        # `playbook compile | head`: the reader went away; that is not a failure of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:
        if _debug():
            traceback.print_exc()
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        detail = f"{type(error).__name__}: {message}" if message else type(error).__name__
        print(
            f"playbook: internal error: {detail} (set PLAYBOOK_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
