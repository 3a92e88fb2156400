"""The layers hold: data flows one way, workers -> activities -> engine -> dsl.

The contracts live in pyproject.toml (`[tool.importlinter]`); import-linter checks them here
and in CI. A second test proves the contracts would catch a violation, on a throwaway copy.
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
    assert layers == [["workers", "activities", "engine", "dsl"]]


def test_the_language_is_forbidden_to_import_the_rest_of_the_project() -> None:
    forbidden = {
        str(c["source_modules"][0]): set(c["forbidden_modules"])  # type: ignore[index]
        for c in contracts()
        if c["type"] == "forbidden"
    }
    assert forbidden["dsl"] == {"engine", "activities", "workers"}


def test_every_import_contract_is_kept() -> None:
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _miniature(root: Path) -> Path:
    """A miniature project with the real contracts: every package and every module a contract names."""
    (root / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for package in ("dsl", "engine", "activities", "workers"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("", encoding="utf-8")
    for contract in contracts():  # every module a contract names must exist
        named = [*contract.get("source_modules", []), *contract.get("forbidden_modules", [])]  # type: ignore[misc]
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


def test_the_contracts_catch_the_store_reaching_into_routing(tmp_path: Path) -> None:
    # The store composed into the routing cache must not import routing back.
    _miniature(tmp_path)
    (tmp_path / "engine" / "routing.py").write_text("class AccountCache: ...\n", encoding="utf-8")
    (tmp_path / "engine" / "store.py").write_text("from engine.routing import AccountCache\n", encoding="utf-8")
    result = run_lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0
    assert "engine.store -> engine.routing" in result.stdout
    assert "The store knows nothing of routing" in result.stdout
