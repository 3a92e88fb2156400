"""How long the language server takes to answer a keystroke in a 1,000-line file.

    .venv/bin/python bench/lsp_keystroke.py [--lines 1000] [--keystrokes 60]

Generates a folder as `check_speed.py` does (its account model, its templates and 20 other
playbooks) plus one file of about `--lines` lines, then types in that file: a letter into a
field's name (an unknown field: a diagnostic appears), then the letter deleted (it goes), and so
on. Two figures per keystroke:

- `in process`: `FolderModel.recheck` after the edit, the work a keystroke costs (the file parsed
  again, the folder checked and lowered; the other files' parses kept);
- `over stdio`: `playbook lsp --debounce-ms 0` driven as an editor drives it, from `didChange`
  sent to the `publishDiagnostics` of that version received (the protocol, the JSON, the process
  boundary included; the pause an editor waits before checking, 150 ms by default, left out).

The goal: the median over stdio under 100 ms. Prints the figures and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from check_speed import generate, playbook_source
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp.folder_model import FolderModel

GOAL_MS = 100.0
PLAYBOOK = Path(sys.executable).with_name("playbook")


def big_file(lines: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    index = 10_000
    while sum(part.count("\n") for part in parts) < lines:
        parts.append(playbook_source(index, rng))
        index += 1
    return "\n".join(parts)


def typing_place(text: str) -> tuple[int, int]:
    """The line and column just after the first field name read by a condition (`if NAME ...`)."""
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped.startswith("if ") and stripped[3:4].isalpha():
            name = stripped[3:].split()[0]
            return number, line.index(name) + len(name)
    raise SystemExit("no `if NAME` line in the generated file")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def in_process(folder: Path, path: Path, text: str, keystrokes: int) -> list[float]:
    model = FolderModel(folder)
    model.edit(path, text)
    model.recheck()
    line, column = typing_place(text)
    lines = text.splitlines(keepends=True)
    timings: list[float] = []
    for stroke in range(keystrokes):
        typed = list(lines)
        if stroke % 2 == 0:
            typed[line] = typed[line][:column] + "x" + typed[line][column:]
        model.edit(path, "".join(typed))
        began = time.perf_counter()
        model.recheck()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


async def over_stdio(folder: Path, path: Path, text: str, keystrokes: int) -> tuple[list[float], int]:
    client = LanguageClient("bench", "1")
    arrived: dict[int, float] = {}
    counts: dict[int, int] = {}
    ready = asyncio.Condition()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    async def published(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == path.as_uri() and params.version is not None:
            async with ready:
                arrived[params.version] = time.perf_counter()
                counts[params.version] = len(params.diagnostics)
                ready.notify_all()

    await client.start_io(str(PLAYBOOK), "lsp", "--debounce-ms", "0", cwd=str(folder))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(path.as_uri(), "playbook", 1, text)))

    async def published_version(version: int) -> None:
        async with ready:
            await asyncio.wait_for(ready.wait_for(lambda: version in arrived), 60)

    await published_version(1)
    line, column = typing_place(text)
    timings: list[float] = []
    for stroke in range(keystrokes):
        version = stroke + 2
        if stroke % 2 == 0:
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, column), types.Position(line, column)), text="x")
        else:
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, column), types.Position(line, column + 1)), text="")
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=path.as_uri()), [change]))
        await published_version(version)
        timings.append((arrived[version] - sent) * 1000)
    typo_reported = sum(1 for version, count in counts.items() if version % 2 == 0 and count > 0)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timings, typo_reported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--keystrokes", type=int, default=60)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lsp-bench-") as temporary:
        folder = Path(temporary).resolve()
        generate(folder, 20)
        text = big_file(args.lines)
        path = folder / "large.play"
        path.write_text(text, encoding="utf-8")
        lines = text.count("\n")
        local = in_process(folder, path, text, args.keystrokes)
        remote, reported = asyncio.run(over_stdio(folder, path, text, args.keystrokes))
    figures = {
        "file_lines": lines,
        "folder_files": 21,
        "keystrokes": args.keystrokes,
        "in_process_median_ms": round(statistics.median(local), 1),
        "in_process_p95_ms": round(percentile(local, 0.95), 1),
        "stdio_median_ms": round(statistics.median(remote), 1),
        "stdio_p95_ms": round(percentile(remote, 0.95), 1),
        "typos_reported": reported,
        "goal_ms": GOAL_MS,
    }
    figures["goal_met"] = figures["stdio_median_ms"] < GOAL_MS and reported == args.keystrokes // 2
    print(f"a keystroke in a {lines:,}-line file (a folder of 21 files), {args.keystrokes} keystrokes:")
    print(f"  in process (recheck):      median {figures['in_process_median_ms']} ms, "
          f"p95 {figures['in_process_p95_ms']} ms")
    print(f"  over stdio (to diagnostics): median {figures['stdio_median_ms']} ms, p95 {figures['stdio_p95_ms']} ms "
          f"(goal: median under {GOAL_MS:.0f} ms)")
    print(f"  typos reported: {reported} of {args.keystrokes // 2}")
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
