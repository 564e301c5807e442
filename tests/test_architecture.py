"""The direction of imports, as STYLE.md draws it: the import-linter contracts in pyproject.toml, kept."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("contract", CONTRACTS, ids=[contract["id"] for contract in CONTRACTS])
def test_the_import_contract_is_kept(contract):
    linted = lint_imports("--contract", contract["id"])
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_broken_contract_fails_the_lint(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["hub"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "models above services"\ntype = "layers"\n'
        'layers = ["hub.models", "hub.services"]\n'
    )
    linted = lint_imports("--config", str(config))
    assert linted.returncode != 0
    assert "models above services BROKEN" in linted.stdout


def test_taking_mail_in_loads_no_search_index_and_no_text_extraction():
    """What `plein smtp` loads to take mail in; lazy imports included, which a static contract cannot see."""
    heavy = ["tantivy", "search.index", "search.extraction", "search.extractor"]
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, mailgateway.smtp, hub.gateway; print([m for m in {heavy} if m in sys.modules])"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )
    assert loaded.stdout.strip() == "[]"
