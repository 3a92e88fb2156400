"""What the HTTP API (`server.api`) and the dashboard (`server.dashboard`) share in one web
process, so that neither imports the other: the error answers (`errors`), the process's state
(`state`), its limits (`limits`), storing a batch of input (`ingest`) and completing a task
(`task_completion`). `server.app` builds the application from both.

This package imports neither `server.api` nor `server.dashboard` (pyproject.toml,
`[tool.importlinter]`).
"""
