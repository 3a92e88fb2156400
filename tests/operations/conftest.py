"""The production layout's tests: the repository's files (`ROOT`).

The PostgreSQL fixtures (`postgres_url`, `pg_store`) are the root conftest's: they run when
`PLAYBOOK_TEST_POSTGRES_URL` names a database they may wipe (every test starts from an empty
`public` schema); `bash .ci/postgres.sh` starts a local server and prints such a URL. Without it
they are skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
