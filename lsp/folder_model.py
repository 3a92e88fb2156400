"""A folder of playbooks as the editor sees it: compiled as `playbook check` compiles it.

The folder's `.play` files and templates are read from the disk, except the documents open in
the editor, whose unsaved text is used instead. Each compilation is the checker's own
(`dsl.project.compile_files`), so its diagnostics are `playbook check`'s, message for message
and place for place. Only what an edit can change is done again: the parse of every file whose
text is unchanged is kept (`trees`), the templates are loaded again only when one of them
changed, and an edit to one playbook file that changes no declaration and no playbook's name
checks that file alone (`dsl.recompile`), keeping the other files' problems: a keystroke in a
playbook parses and checks one file.

The declarations the editor's help reads come from the last parse of each file that parsed:
while a line is half written the file does not parse, and completion still knows its names.
"""

from __future__ import annotations

import os
from pathlib import Path

from dsl import ast, ir
from dsl.diagnostics import Diagnostic
from dsl.plugin_catalog import PluginCatalog
from dsl.project import Compilation, ParsedTrees, compile_files
from dsl.recompile import recompile_file
from dsl.templates import load_templates
from lsp.declarations import Declarations

__all__ = ["FolderModel", "is_template_path"]

TEMPLATE_SUFFIXES = (".email.jinja", ".in_app.jinja")


def is_template_path(path: Path) -> bool:
    return path.parent.name == "templates" and path.name.endswith(".jinja")


class FolderModel:
    """One folder of playbooks (the one `playbook check` would be given), with the open documents."""

    def __init__(self, folder: Path, plugins: PluginCatalog | None = None) -> None:
        self.folder = folder.resolve()
        self.plugins = plugins
        self.open: dict[str, str] = {}
        self.trees: ParsedTrees = {}
        self.compilation = Compilation()
        self.declarations = Declarations()
        self._disk: dict[str, tuple[int, str]] = {}
        self._last_good: dict[str, ast.File] = {}
        self._templates_kept: tuple[object, tuple[dict[str, ir.Template], list[Diagnostic]]] | None = None

    def holds(self, path: Path) -> bool:
        """True for a `.play` file under the folder or a template of its `templates/`."""
        path = path.resolve()
        if is_template_path(path):
            return path.parent.parent == self.folder
        return path.suffix == ".play" and self.folder in path.parents

    def edit(self, path: Path, text: str) -> None:
        self.open[str(path.resolve())] = text

    def close(self, path: Path) -> None:
        self.open.pop(str(path.resolve()), None)

    def recheck(self) -> Compilation:
        """Compile the folder again with the open documents' text; keeps the result."""
        sources = self._play_sources()
        templates, problems, reloaded = self._templates()
        for path in list(self.trees):
            if path not in sources:
                del self.trees[path]
        self.compilation = self._compiled(sources, templates, problems, reloaded)
        for path, (_, tree) in self.trees.items():
            if isinstance(tree, ast.File):
                self._last_good[path] = tree
        for path in list(self._last_good):
            if path not in sources:
                del self._last_good[path]
        self.declarations = Declarations.of(list(self._last_good.values()), templates, self.plugins, sources)
        return self.compilation

    def diagnostics_by_path(self) -> dict[str, list[Diagnostic]]:
        """The last compilation's diagnostics, by file: every file of the folder and every open one has an entry."""
        found: dict[str, list[Diagnostic]] = {path: [] for path in [*self.compilation.sources, *self.open]}
        for diagnostic in self.compilation.diagnostics:
            found.setdefault(diagnostic.span.path, []).append(diagnostic)
        return found

    def text_of(self, path: str) -> str | None:
        """The text the last compilation read for `path` (a `.play` file or a template)."""
        if path in self.open:
            return self.open[path]
        if path in self.compilation.sources:
            return self.compilation.sources[path]
        return self._read(Path(path))

    def _compiled(
        self, sources: dict[str, str], templates: dict[str, ir.Template], problems: list[Diagnostic], reloaded: bool
    ) -> Compilation:
        """The folder compiled: after an edit to one playbook file alone, that file alone is checked
        when nothing else can change (`dsl.recompile`); otherwise the folder whole."""
        previous = self.compilation
        changed = [path for path, text in sources.items() if previous.sources.get(path) != text]
        if not reloaded and previous.sources.keys() == sources.keys():
            if not changed:
                return previous
            if len(changed) == 1:
                again = recompile_file(previous, changed[0], sources[changed[0]], templates, self.plugins, self.trees)
                if again is not None:
                    return again
        return compile_files(sources, templates, self.plugins, problems, trees=self.trees)

    def _templates(self) -> tuple[dict[str, ir.Template], list[Diagnostic], bool]:
        """The folder's templates, loaded again only when a template's text changed (on disk or open);
        and whether they were loaded now."""
        texts = {path: text for path, text in self.open.items() if is_template_path(Path(path))}
        directory = self.folder / "templates"
        try:
            stamps = tuple(sorted((entry.name, entry.stat().st_mtime_ns) for entry in os.scandir(directory)))
        except OSError:
            stamps = ()
        key = (stamps, tuple(sorted(texts.items())))
        reloaded = self._templates_kept is None or self._templates_kept[0] != key
        if self._templates_kept is None or reloaded:
            self._templates_kept = (key, load_templates(self.folder, texts))
        templates, problems = self._templates_kept[1]
        return dict(templates), list(problems), reloaded

    def _play_sources(self) -> dict[str, str]:
        sources: dict[str, str] = {}
        for file in _play_files(self.folder):
            path = str(file)
            text = self.open.get(path)
            if text is None:
                text = self._read(file)
            if text is not None:
                sources[path] = text
        for path, text in self.open.items():
            if path.endswith(".play") and path not in sources and self.holds(Path(path)):
                sources[path] = text
        return dict(sorted(sources.items()))

    def _read(self, file: Path) -> str | None:
        """The disk's text of `file`, read again only when the file changed on the disk."""
        path = str(file)
        try:
            stamp = os.stat(file).st_mtime_ns
            kept = self._disk.get(path)
            if kept is not None and kept[0] == stamp:
                return kept[1]
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        self._disk[path] = (stamp, text)
        return text


def _play_files(root: Path) -> list[Path]:
    """Every `.play` file under `root`, as `playbook check` finds them (hidden folders left out)."""
    return sorted(
        path
        for path in root.rglob("*.play")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts[:-1])
    )
