"""`playbook fmt [DIR] [--check]`: rewrite `.play` files in the canonical layout.

DIR is a folder (every `.play` file under it) or one `.play` file. With `--check` nothing is
written: the files that would change are listed on stdout and the exit status is 1 if any would.
A file that does not parse is never touched; its diagnostics go to stderr and the exit status
is 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cli.commands import DEFAULT_FOLDER, UsageError, plural
from dsl.diagnostics import render_all
from dsl.formatter import FormatError, format_source

__all__ = ["play_files", "register", "run"]


def play_files(target: Path) -> Iterator[Path]:
    """The `.play` files a target names: itself, or those under it (hidden folders skipped)."""
    if target.is_file():
        yield target
        return
    for path in sorted(target.rglob("*.play")):
        relative = path.relative_to(target).parts
        if any(part.startswith(".") for part in relative[:-1]):
            continue
        if path.is_file():
            yield path


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _target(raw: str) -> Path:
    path = Path(raw)
    if not path.exists():
        raise UsageError(f"no such folder or file: {raw}")
    if path.is_file() and path.suffix != ".play":
        raise UsageError(f"not a .play file: {raw}")
    return path


def run(args: argparse.Namespace) -> int:
    target = _target(args.folder)
    changed: list[Path] = []
    unchanged = 0
    broken = 0
    for path in play_files(target):
        try:
            original = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"{path}: cannot read: {error}", file=sys.stderr)
            broken += 1
            continue
        try:
            formatted = format_source(original, str(path))
        except FormatError as error:
            print(render_all(error.diagnostics, {str(path): original}), file=sys.stderr)
            broken += 1
            continue
        if formatted == original:
            unchanged += 1
            continue
        changed.append(path)
        if args.check:
            print(f"would reformat {path}")
        else:
            _write_atomically(path, formatted)
            print(f"reformatted {path}")
    verb = "would be reformatted" if args.check else "reformatted"
    parts = [f"{plural(len(changed), 'file')} {verb}", f"{unchanged:,} unchanged"]
    if broken:
        parts.append(f"{plural(broken, 'file')} with errors left as they are")
    print(", ".join(parts), file=sys.stderr)
    if broken or (args.check and changed):
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fmt",
        help="rewrite .play files in the canonical layout",
        description="Rewrite .play files in the canonical layout (4-space blocks, one space "
        "around operators, normalised durations, comments kept).",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"a folder of playbooks or one .play file (default: {DEFAULT_FOLDER})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the files that would change and exit 1 if any")
    parser.set_defaults(handler=run)
