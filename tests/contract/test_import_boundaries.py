"""The layers stay apart: the engine (``sync/``) knows nothing of HTTP, and the wire schemas (``schemas/``)
nothing of the engine or the server. Checked on the source (``ast``), without importing anything, so an
import hidden in a function body or behind ``TYPE_CHECKING`` counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package → top-level modules it must not import (a name ending in "_" forbids that prefix: flask_smorest, …)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "sync": ("flask", "flask_", "werkzeug", "server", "schemas"),
    "schemas": ("sync", "server"),
}


OUTSIDE = "<outside the package>"


def _is_forbidden(module: str, forbidden: tuple[str, ...]) -> bool:
    if module == OUTSIDE:
        return True
    top = module.split(".")[0]
    return any(top.startswith(name) if name.endswith("_") else top == name for name in forbidden)


def _imported(tree: ast.AST, package: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``tree``; relative imports resolved against ``path``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
            else:  # relative: climb from the module's own package; escaping the package counts as leaving it
                parts = [package, *path.parent.parts] if path.parent.parts else [package]
                if node.level > len(parts):
                    found.append((node.lineno, OUTSIDE))
                    continue
                base = parts[: len(parts) - (node.level - 1)]
                found.append((node.lineno, ".".join([*base, node.module] if node.module else base)))
    return found


def violations(source: str, *, package: str, filename: str = "<string>") -> list[str]:
    """``file:line imports X`` for each import ``package`` may not make; ``filename`` is relative to the package."""
    path = Path(filename)
    tree = ast.parse(source, filename=filename)
    return [
        f"{package}/{filename}:{line}: imports {module!r}"
        for line, module in _imported(tree, package, path)
        if _is_forbidden(module, FORBIDDEN[package])
    ]


def all_violations(repo: Path = ROOT) -> list[str]:
    found: list[str] = []
    for package in FORBIDDEN:
        root = repo / package
        for file in sorted(root.rglob("*.py")):
            relative = file.relative_to(root).as_posix()
            found += violations(file.read_text(encoding="utf-8"), package=package, filename=relative)
    return found


def test_packages_import_only_downwards():
    found = all_violations()
    assert not found, "layer boundary crossed (see docs: sync/ must not know HTTP; schemas/ stands alone):\n" + (
        "\n".join(found)
    )


def test_the_check_sees_every_package():
    for package in FORBIDDEN:
        assert any((ROOT / package).rglob("*.py")), f"no Python files under {package}/"


@pytest.mark.parametrize(
    ("package", "filename", "source", "expected"),
    [
        ("sync", "push.py", "import flask\n", ["sync/push.py:1: imports 'flask'"]),
        ("sync", "x.py", "\nfrom flask_sqlalchemy import SQLAlchemy\n", ["sync/x.py:2: imports 'flask_sqlalchemy'"]),
        ("sync", "x.py", "from werkzeug.exceptions import NotFound\n", ["sync/x.py:1: imports 'werkzeug.exceptions'"]),
        (
            "sync",
            "geo/a.py",
            "def f():\n    from server.config import X\n",
            ["sync/geo/a.py:2: imports 'server.config'"],
        ),
        ("sync", "a.py", "import schemas.sync as s\n", ["sync/a.py:1: imports 'schemas.sync'"]),
        ("sync", "a.py", "from .. import server\n", ["sync/a.py:1: imports '<outside the package>'"]),
        ("schemas", "a.py", "from sync.models import Visit\n", ["schemas/a.py:1: imports 'sync.models'"]),
        ("schemas", "a.py", "from server import app\n", ["schemas/a.py:1: imports 'server'"]),
        ("schemas", "a.py", "from .. import sync\n", ["schemas/a.py:1: imports '<outside the package>'"]),
        # allowed: the standard library, other third-party packages, the package's own modules, look-alike names
        ("sync", "geo/a.py", "import os\nfrom sqlalchemy import select\nfrom ..models import Visit\n", []),
        ("sync", "a.py", "import flasky\nimport serverless\nfrom . import schemas_local\n", []),
        ("schemas", "a.py", "from marshmallow import Schema\nfrom .common import Id\n", []),
    ],
)
def test_the_check_can_fail(package, filename, source, expected):
    assert violations(source, package=package, filename=filename) == expected


def test_the_walk_names_file_and_line(tmp_path):
    (tmp_path / "sync" / "geo").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "sync" / "geo" / "ok.py").write_text("from ..models import Visit\n")
    (tmp_path / "sync" / "geo" / "bad.py").write_text('"""Doc."""\n\nfrom flask import g\n')
    (tmp_path / "schemas" / "wire.py").write_text("import sync.models\n")
    assert all_violations(tmp_path) == [
        "sync/geo/bad.py:3: imports 'flask'",
        "schemas/wire.py:1: imports 'sync.models'",
    ]
