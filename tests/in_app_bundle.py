"""A one-playbook bundle written to a folder: a model, a playbook, and in-app templates by name."""

from __future__ import annotations

from pathlib import Path

from dsl import ir
from dsl.project import compile_folder

__all__ = ["in_app_bundle"]


def in_app_bundle(root: Path, model: str, playbook: str, templates: tuple[str, ...] = ("low", "high")) -> ir.Bundle:
    """Compile `model` and `playbook` (as `nudge.play`) with an in-app template for each name."""
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(model)
    (root / "nudge.play").write_text(playbook)
    for name in templates:
        (root / "templates" / f"{name}.in_app.jinja").write_text(
            "{% block subject %}" + name + "{% endblock %}\n{% block text %}" + name + "{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle
