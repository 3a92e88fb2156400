"""The language server, `playbook lsp`: the checker's diagnostics and help while one writes.

Editors speak the Language Server Protocol to it over stdio (pygls). It reads the language
only (`dsl/`); the command line starts it with the installed plugins' catalog.

Modules: `folder_model` compiles a folder of playbooks as `playbook check` does, with the
editor's unsaved text, parsing again only the files that changed; `declarations` indexes the
names a folder declares (where, which type, their doc comments); `text_places` finds the word
and the context at a position; `published_diagnostics` turns diagnostics into the protocol's;
`hover`, `completion`, `definition` and `quick_fixes` answer those requests; `keyword_docs`
takes the keywords' meaning from `docs/language.md`; `server` wires them to the protocol.
"""
