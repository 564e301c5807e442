"""The direction of imports, as STYLE.md draws it, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module))
    return found


@pytest.mark.parametrize("leaf", ["mailgateway", "search"])
def test_leaf_packages_import_nothing_of_hub_or_workers(leaf):
    offending = {(f, m) for f, m in imported_modules(leaf) if m.split(".")[0] in {"hub", "workers"}}
    assert offending == set()


def test_only_search_imports_tantivy():
    users = {f for package in ("hub", "mailgateway", "workers") for f, m in imported_modules(package) if m == "tantivy"}
    assert users == set()


def test_services_and_models_never_import_the_web_layer_or_workers():
    offending = {
        (f, m)
        for f, m in imported_modules("hub")
        if not f.startswith(("hub/web/", "hub/runner.py", "hub/cli.py"))
        and (m.startswith("hub.web") or m.split(".")[0] == "workers")
    }
    assert offending == set()


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, with `from package import module` counted as `package.module`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


@pytest.mark.parametrize("service", ["moderation", "publishing", "raw_mail"])
def test_mail_in_depends_on_moderation_and_publishing_not_the_other_way(service):
    assert "hub.services.inbound" not in imported_names(ROOT / "hub" / "services" / f"{service}.py")
