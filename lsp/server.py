"""`playbook lsp`: the language server, wiring the editor's requests to the folder models.

Each document belongs to one folder of playbooks, the folder `playbook check` would be given:
the `--folder` of the command when given, else the nearest folder above the document that
holds a `templates/` folder (a template's folder is the one above its `templates/`), else the
workspace's `playbooks/` when it holds the document, else the document's own folder.

On opening a document its folder is checked at once; on each change it is checked again once
the typing pauses (`debounce`, 0.15 s by default). The diagnostics of every open document are
published after each check (with its version), and those of any other file of the folder when
they changed: a change to the model can mend or break another file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dsl.diagnostics import Diagnostic
from dsl.formatter import FormatError, format_source
from dsl.plugin_catalog import PluginCatalog
from lsp.completion import complete
from lsp.definition import definition
from lsp.folder_model import FolderModel, is_template_path
from lsp.hover import hover
from lsp.published_diagnostics import path_of, to_protocol, uri_of
from lsp.quick_fixes import quick_fixes
from lsp.text_places import to_character

__all__ = ["PlaybookLanguageServer", "build_server"]

DEFAULT_DEBOUNCE = 0.15
# A document longer than this is not checked as one types (a playbook file is a few hundred lines):
# the editor says so once, and `playbook check` still checks it.
MAX_DOCUMENT_CHARACTERS = 2_000_000


class PlaybookLanguageServer(LanguageServer):
    """The server's state: one model per folder, the pending checks, the files published to."""

    def __init__(self, version: str, plugins: PluginCatalog | None, folder: Path | None, debounce: float) -> None:
        super().__init__("playbook", version, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.plugins = plugins
        self.folder = folder
        self.debounce = debounce
        self.models: dict[Path, FolderModel] = {}
        self.pending: dict[Path, asyncio.Task[None]] = {}
        self.published: dict[Path, dict[str, list[Diagnostic]]] = {}

    def root(self) -> Path:
        root = self.workspace.root_path if self.protocol.workspace is not None else None
        return Path(root).resolve() if root else Path.cwd().resolve()

    def folder_of(self, path: Path) -> Path:
        if self.folder is not None:
            return (self.root() / self.folder).resolve()
        if is_template_path(path):
            return path.parent.parent
        root = self.root()
        for parent in path.parents:
            if (parent / "templates").is_dir():
                return parent
            if parent == root:
                break
        playbooks = root / "playbooks"
        return playbooks if playbooks in path.parents else path.parent

    def model_of(self, uri: str) -> FolderModel | None:
        path = path_of(uri)
        if path.suffix != ".play" and not is_template_path(path):
            return None
        folder = self.folder_of(path)
        model = self.models.get(folder)
        if model is None:
            model = self.models[folder] = FolderModel(folder, self.plugins)
        return model if model.holds(path) else None

    def text_of(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def check_now(self, model: FolderModel) -> None:
        """Check the folder and publish what changed: every open document (its new version), and
        every other file whose diagnostics are not the ones last published for it."""
        model.recheck()
        found = model.diagnostics_by_path()
        before = self.published.setdefault(model.folder, {})
        for path in set(before) - set(found):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri_of(path), []))
            del before[path]
        for path, diagnostics in found.items():
            if path not in model.open and before.get(path, []) == diagnostics:
                continue  # nothing new to say, and no editor waiting on a version
            uri = uri_of(path)
            document = self.workspace.text_documents.get(uri)
            text = model.text_of(path)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri, [to_protocol(d, text) for d in diagnostics], document.version if document else None))
            before[path] = diagnostics

    def check_soon(self, model: FolderModel) -> None:
        """Check the folder once the typing pauses: a newer change replaces the pending check."""
        waiting = self.pending.pop(model.folder, None)
        if waiting is not None:
            waiting.cancel()
        if self.debounce <= 0:
            self.check_now(model)
            return

        async def later() -> None:
            await asyncio.sleep(self.debounce)
            self.pending.pop(model.folder, None)
            try:
                self.check_now(model)
            except Exception as error:  # a check that fails says so in the editor's log; the server goes on
                self.window_log_message(types.LogMessageParams(
                    types.MessageType.Error, f"playbook lsp: checking {model.folder} failed: {type(error).__name__}: "
                                             f"{error}"))

        self.pending[model.folder] = asyncio.get_running_loop().create_task(later())


def build_server(
    version: str, plugins: PluginCatalog | None = None, folder: Path | None = None, debounce: float = DEFAULT_DEBOUNCE
) -> PlaybookLanguageServer:
    server = PlaybookLanguageServer(version, plugins, folder, debounce)
    _documents(server)
    _requests(server)
    return server


def _documents(server: PlaybookLanguageServer) -> None:
    def edited(uri: str, immediately: bool) -> None:
        model = server.model_of(uri)
        if model is None:
            return
        text = server.text_of(uri)
        if len(text) > MAX_DOCUMENT_CHARACTERS:
            model.close(path_of(uri))
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, [types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 1)),
                message=f"this file is too long to check as you type ({len(text):,} characters, at most "
                        f"{MAX_DOCUMENT_CHARACTERS:,}): run `playbook check`",
                severity=types.DiagnosticSeverity.Warning, source="playbook", code="too-long")]))
            return
        model.edit(path_of(uri), text)
        if immediately or not model.compilation.sources:
            server.check_now(model)
        else:
            server.check_soon(model)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: types.DidOpenTextDocumentParams) -> None:
        edited(params.text_document.uri, immediately=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        edited(params.text_document.uri, immediately=False)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        edited(params.text_document.uri, immediately=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        model = server.model_of(params.text_document.uri)
        if model is not None:
            model.close(path_of(params.text_document.uri))
            server.check_soon(model)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def files_changed(params: types.DidChangeWatchedFilesParams) -> None:
        for model in list(server.models.values()):
            server.check_soon(model)


def _requests(server: PlaybookLanguageServer) -> None:
    def answer(uri: str, respond: Callable[[str, FolderModel], Any]) -> Any:
        model = server.model_of(uri)
        return None if model is None else respond(server.text_of(uri), model)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        result: types.Hover | None = answer(
            params.text_document.uri, lambda text, model: hover(text, params.position, model.declarations))
        return result

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=[".", " ", "{"]))
    def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        template = is_template_path(path_of(params.text_document.uri))
        items = answer(params.text_document.uri,
                       lambda text, model: complete(text, params.position, model.declarations, template))
        return None if items is None else types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def on_definition(params: types.DefinitionParams) -> types.Location | None:
        result: types.Location | None = answer(
            params.text_document.uri,
            lambda text, model: definition(text, params.position, model.declarations, model.text_of))
        return result

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def on_formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        path = path_of(params.text_document.uri)
        if path.suffix != ".play":
            return None
        text = server.text_of(params.text_document.uri)
        try:
            formatted = format_source(text, str(path))
        except FormatError:
            return None  # the diagnostics already say why: the file does not parse
        if formatted == text:
            return []
        lines = text.split("\n")
        end = types.Position(len(lines) - 1, to_character(lines[-1], len(lines[-1])))
        return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return quick_fixes(params.text_document.uri, list(params.context.diagnostics))
