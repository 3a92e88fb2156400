"""The layers hold: data flows one way, cli -> simulation | lsp -> workers | server -> activities ->
engine -> dsl; the language server reads the language only; the workflows do no I/O; the HTTP API
and the dashboard are independent, and the command line imports neither.

The contracts live in pyproject.toml (`[tool.importlinter]`); import-linter checks them here
and in CI. Further tests prove the contracts would catch a violation, on a throwaway copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def test_layers_are_declared_in_the_order_data_flows() -> None:
    layers = [c["layers"] for c in contracts() if c["type"] == "layers"]
    assert layers == [["cli", "simulation | lsp", "workers | server", "activities", "engine", "dsl"]]


def test_the_language_is_forbidden_to_import_the_rest_of_the_project() -> None:
    forbidden = {
        str(c["source_modules"][0]): set(c["forbidden_modules"])  # type: ignore[index, call-overload]
        for c in contracts()
        if c["type"] == "forbidden"
    }
    assert forbidden["dsl"] == {"engine", "activities", "workers", "server", "simulation", "lsp", "cli"}
    assert forbidden["lsp"] == {"engine", "activities", "workers", "server", "simulation", "cli"}


def test_every_import_contract_is_kept() -> None:
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _miniature(root: Path) -> Path:
    """A miniature project with the real contracts: every package and every module a contract names."""
    (root / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for package in ("dsl", "engine", "activities", "workers", "server", "simulation", "lsp", "cli"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("", encoding="utf-8")
    for contract in contracts():  # every module a contract names must exist
        named = [*contract.get("source_modules", []), *contract.get("forbidden_modules", [])]  # type: ignore[misc]
        named += contract.get("modules", [])  # type: ignore[arg-type]  # an independence contract's
        for module in named:
            path = root.joinpath(*str(module).split(".")).with_suffix(".py")
            if not path.parent.joinpath("__init__.py").exists() or path.name == "__init__.py":
                continue
            path.write_text("", encoding="utf-8")
    return root


def test_the_contracts_catch_an_import_against_the_flow(tmp_path: Path) -> None:
    # A miniature project with the real contracts, where the language imports the engine.
    _miniature(tmp_path)
    (tmp_path / "engine" / "journey.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "dsl" / "checker.py").write_text(
        textwrap.dedent(
            """\
            from engine.journey import X
            """
        ),
        encoding="utf-8",
    )
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "dsl.checker -> engine.journey" in result.stdout


def test_the_contracts_catch_the_language_server_reaching_past_the_language(tmp_path: Path) -> None:
    # The language server reads the language only: the plugin catalog comes from the command line,
    # never from the activities (the layers alone would allow it, a layer below).
    _miniature(tmp_path)
    _modules(tmp_path, {
        "activities/plugin_catalog.py": "def plugin_catalog() -> None: ...\n",
        "lsp/server.py": "from activities.plugin_catalog import plugin_catalog\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The language server reads only the language" in result.stdout
    assert "lsp.server -> activities.plugin_catalog" in result.stdout


def test_the_contracts_catch_the_language_importing_the_language_server(tmp_path: Path) -> None:
    _miniature(tmp_path)
    _modules(tmp_path, {"lsp/hover.py": "X = 1\n", "dsl/checker.py": "from lsp.hover import X\n"})
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "dsl.checker -> lsp.hover" in result.stdout


def test_the_contracts_catch_the_store_reaching_into_routing(tmp_path: Path) -> None:
    # The store composed into the routing cache must not import routing back.
    _miniature(tmp_path)
    (tmp_path / "engine" / "routing.py").write_text("class AccountCache: ...\n", encoding="utf-8")
    (tmp_path / "engine" / "store.py").write_text("from engine.routing import AccountCache\n", encoding="utf-8")
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "engine.store -> engine.routing" in result.stdout
    assert "The store knows nothing of routing" in result.stdout



def test_the_workflows_are_forbidden_every_module_that_does_io() -> None:
    forbidden = set(_contract("The workflows do no I/O")["forbidden_modules"])  # type: ignore[call-overload]
    assert {"engine.store", "sqlalchemy", "jinja2", "httpx"} <= forbidden


def test_the_contracts_catch_a_workflow_reading_the_store(tmp_path: Path) -> None:
    # Indirect, through a module that is itself allowed: caught all the same.
    _miniature(tmp_path)
    _modules(tmp_path, {
        "engine/store/accounts.py": "def fields_at() -> None: ...\n",
        "engine/semantics/lookup.py": "from engine.store.accounts import fields_at\n",
        "engine/workflows/journey.py": "from engine.semantics.lookup import fields_at\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The workflows do no I/O" in result.stdout
    assert "engine.workflows.journey -> engine.semantics.lookup" in result.stdout


def test_the_contracts_catch_a_workflow_importing_an_http_client(tmp_path: Path) -> None:
    _miniature(tmp_path)
    _modules(tmp_path, {"engine/workflows/journey.py": "import httpx\n"})
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The workflows do no I/O" in result.stdout
    assert "engine.workflows.journey -> httpx" in result.stdout


def test_the_contracts_catch_the_server_importing_the_simulation(tmp_path: Path) -> None:
    _miniature(tmp_path)
    _modules(tmp_path, {
        "simulation/simulate.py": "def simulate() -> None: ...\n",
        "server/api/insight.py": "from simulation.simulate import simulate\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "Data flows one way" in result.stdout
    assert "server.api.insight -> simulation.simulate" in result.stdout

# --------------------------------------------------------------------------- the web packages


def _contract(name_start: str) -> dict[str, object]:
    return next(c for c in contracts() if str(c["name"]).startswith(name_start))


def _modules(root: Path, files: dict[str, str]) -> None:
    """Modules of the miniature, `server/api/tasks.py` style; a package replaces a module of its name."""
    for name, text in files.items():
        path = root / name
        for parent in reversed(path.relative_to(root).parents[:-1]):
            folder = root / parent
            folder.with_suffix(".py").unlink(missing_ok=True)
            folder.mkdir(exist_ok=True)
            (folder / "__init__.py").touch()
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_api_and_the_dashboard_are_declared_independent() -> None:
    independent = _contract("The API and the dashboard are independent")
    assert independent["type"] == "independence"
    assert independent["modules"] == ["server.api", "server.dashboard"]
    shared = _contract("What the API and the dashboard share")
    assert shared["source_modules"] == ["server.web"]
    assert set(shared["forbidden_modules"]) == {"server.api", "server.dashboard", "server.app"}  # type: ignore[call-overload]
    commands = _contract("The command line imports neither")
    assert commands["source_modules"] == ["cli"]
    assert set(commands["forbidden_modules"]) == {"server.api", "server.dashboard", "server.web"}  # type: ignore[call-overload]


def test_the_contracts_catch_the_dashboard_importing_the_api(tmp_path: Path) -> None:
    _miniature(tmp_path)
    _modules(tmp_path, {
        "server/api/tasks.py": "async def complete_task() -> None: ...\n",
        "server/dashboard/routes.py": "from server.api.tasks import complete_task\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The API and the dashboard are independent" in result.stdout
    assert "server.dashboard.routes -> server.api.tasks" in result.stdout


def test_the_contracts_catch_the_api_importing_the_dashboard_through_the_shared_package(tmp_path: Path) -> None:
    # The API's app installing the dashboard by way of the shared package: indirect, caught all the same.
    _miniature(tmp_path)
    _modules(tmp_path, {
        "server/dashboard/pages.py": "def install_dashboard() -> None: ...\n",
        "server/web/state.py": "from server.dashboard.pages import install_dashboard\n",
        "server/api/app.py": "from server.web.state import install_dashboard\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The API and the dashboard are independent" in result.stdout
    assert "What the API and the dashboard share (server.web) imports neither of them" in result.stdout
    assert "server.web.state -> server.dashboard.pages" in result.stdout


def test_the_contracts_catch_a_command_importing_the_api(tmp_path: Path) -> None:
    _miniature(tmp_path)
    _modules(tmp_path, {
        "server/api/accounts.py": "class AccountSummary: ...\n",
        "cli/commands/accounts.py": "from server.api.accounts import AccountSummary\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "The command line imports neither the API nor the dashboard" in result.stdout
    assert "cli.commands.accounts -> server.api.accounts" in result.stdout


def test_a_command_may_serve_the_server_module_which_mounts_both(tmp_path: Path) -> None:
    # The one allowed path: `playbook api` imports the server module, which imports the API and the dashboard.
    _miniature(tmp_path)
    _modules(tmp_path, {
        "server/web/state.py": "class WebState: ...\n",
        "server/api/app.py": "from server.web.state import WebState\ndef create_api() -> None: ...\n",
        "server/dashboard/__init__.py": "from server.web.state import WebState\n"
                                         "def install_dashboard() -> None: ...\n",
        "server/app.py": "from server.api.app import create_api\n"
                             "from server.dashboard import install_dashboard\n"
                             "from server.web.state import WebState\n",
        "cli/commands/api.py": "from server.app import create_api\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_catch_two_modules_of_a_package_importing_each_other(tmp_path: Path) -> None:
    # As the evaluator and the score models once did: each a function the other calls.
    _miniature(tmp_path)
    _modules(tmp_path, {
        "engine/semantics/evaluator.py": "from engine.semantics.scores import compute\n",
        "engine/semantics/scores.py": "from engine.semantics.evaluator import evaluate\n",
    })
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "No import cycles among the parts of a package" in result.stdout
    assert "No cycles are allowed in engine.semantics" in result.stdout
