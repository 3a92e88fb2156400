"""What the HTTP API (`workers.api`) and the dashboard (`workers.dashboard`) share in one web
process, so that neither imports the other: the error answers (`errors`), the process's state
(`state`), its limits (`limits`), storing a batch of input (`ingest`) and completing a task
(`task_completion`). `workers.server` builds the application from both.

This package imports neither `workers.api` nor `workers.dashboard` (pyproject.toml,
`[tool.importlinter]`).
"""
