"""The testing kit's pytest fixtures, loaded by pytest wherever playbook is installed (an entry
point of the `pytest11` group), so a plugin package's tests use them without a conftest:

- `recording_server`: a `RecordingServer` on 127.0.0.1, started for the test and stopped after
  it; set `recording_server.answer` to answer as the test needs (`failing_first(2)`, a delay).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulation.plugin_testing.recording_server import RecordingServer

__all__ = ["recording_server"]


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    """A real HTTP server on 127.0.0.1 that records every request (answers 200 `{"ok": true}` until told)."""
    with RecordingServer() as server:
        yield server
