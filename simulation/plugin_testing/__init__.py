"""The plugin author's testing kit: `from simulation.plugin_testing import ...`.

- `plugin_call(...)`: the `PluginCall` an activity receives, for unit tests of the function;
- `RecordingServer`, `Answer`, `failing_first`: a real HTTP server on 127.0.0.1 that records
  every request and answers as told (errors, delays), per attempt of an idempotency key;
- `run_folder(...)`: a playbook folder through `simulate` with live plugins.

See docs/plugins.md, "Testing".
"""

from simulation.plugin_testing.calls import plugin_call, plugin_context
from simulation.plugin_testing.folder_runs import FolderProblems, run_folder
from simulation.plugin_testing.recording_server import Answer, Answerer, RecordingServer, Request, failing_first

__all__ = ["Answer", "Answerer", "FolderProblems", "RecordingServer", "Request", "failing_first", "plugin_call",
           "plugin_context", "run_folder"]
