"""An editor's side of the protocol: `playbook lsp` started over stdio, driven as an editor drives it.

`editor` starts the installed `playbook lsp` in a copy of the standard library (`folder`),
initializes it with that folder as the workspace, and shuts it down after the test.
`EditorSession` opens and changes documents and waits for the diagnostics of a given version
(a fact the server publishes, never a sleep).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.conftest import STANDARD_PLAYBOOKS

PLAYBOOK = Path(sys.executable).with_name("playbook")
ANSWER_TIMEOUT = 60.0


class EditorSession:
    """A client with the documents it opened and the diagnostics the server last published for each."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}
        self.published: dict[str, types.PublishDiagnosticsParams] = {}
        self.changed = asyncio.Condition()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def published(params: types.PublishDiagnosticsParams) -> None:
            async with self.changed:
                self.published[params.uri] = params
                self.changed.notify_all()

    def uri(self, relative: str) -> str:
        return (self.root / relative).resolve().as_uri()

    def open(self, relative: str) -> str:
        uri = self.uri(relative)
        text = (self.root / relative).read_text(encoding="utf-8")
        language = "playbook" if relative.endswith(".play") else "playbook-jinja"
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
        return uri

    def replace(self, relative: str, line: int, start: int, end: int, new_text: str) -> int:
        """Replace characters `start`..`end` of a line (0-based), as a keystroke does; the new version."""
        uri = self.uri(relative)
        self.versions[uri] += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, start), types.Position(line, end)), text=new_text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), [change]))
        return self.versions[uri]

    async def diagnostics(self, relative: str, version: int | None = None) -> list[types.Diagnostic]:
        """The diagnostics published for the document at `version` (or any version, when None)."""
        uri = self.uri(relative)

        def arrived() -> bool:
            params = self.published.get(uri)
            return params is not None and (version is None or params.version == version)

        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(arrived), ANSWER_TIMEOUT)
        return list(self.published[uri].diagnostics)

    def position(self, relative: str, needle: str, offset: int = 0) -> types.Position:
        """Where `needle` first appears in the file (plus `offset` characters)."""
        for number, line in enumerate((self.root / relative).read_text(encoding="utf-8").splitlines()):
            column = line.find(needle)
            if column >= 0:
                return types.Position(number, column + offset)
        raise AssertionError(f"{needle!r} is not in {relative}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the standard library: a workspace whose `playbooks/` is the folder checked."""
    shutil.copytree(STANDARD_PLAYBOOKS, tmp_path / "playbooks")
    return tmp_path


@pytest.fixture
async def editor(folder: Path) -> AsyncIterator[EditorSession]:
    client = LanguageClient("playbook-tests", "1")
    session = EditorSession(client, folder)
    await client.start_io(str(PLAYBOOK), "lsp", cwd=str(folder))
    await asyncio.wait_for(client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="workspace")],
    )), ANSWER_TIMEOUT)
    client.initialized(types.InitializedParams())
    try:
        yield session
    finally:
        await asyncio.wait_for(client.shutdown_async(None), ANSWER_TIMEOUT)
        client.exit(None)
        await asyncio.wait_for(client.stop(), ANSWER_TIMEOUT)
