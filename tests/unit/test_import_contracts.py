"""The layer contracts of `.importlinter` (run by `make lint`) hold, and each one bites: a
forbidden import added to a scratch copy of the code breaks exactly the contract it should."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in ("app", "bench", "devstack"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken", "why"),
    [
        ("app/domain/inn.py", "import litestar", "The domain imports neither",
         "rules stay pure: no framework in the domain"),
        ("app/domain/calendar.py", "from app import db", "The domain imports neither",
         "no I/O in the domain"),
        ("app/queries/audit.py", "import app.render", "Queries know nothing of the web",
         "queries return data, the web layer renders it"),
        ("app/controllers/archive.py", "import app.worker", "Controllers enqueue jobs by name",
         "the web process does not run worker code"),
        ("app/domain/grid.py", "import app.queries.readings", "Web over controllers",
         "a lower layer never imports a higher one"),
        ("app/i18n.py", "import bench.report", "The product does not import the benchmark",
         "app/ is the product only"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, line: str,
                                                broken: str, why: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")
    result = lint(tree)
    assert result.returncode != 0, why
    # verdict lines: "<contract name> KEPT" / "<contract name> BROKEN (1 ignored import)"
    assert any(line.startswith(broken) and " BROKEN" in line
               for line in result.stdout.splitlines()), result.stdout
