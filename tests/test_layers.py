"""The floors import one way: import-linter's contracts (pyproject.toml) hold."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in result.stdout


def test_no_contract_has_an_escape_hatch() -> None:
    assert all("ignore_imports" not in contract for contract in CONFIG["contracts"])


def test_the_core_may_import_no_application_module_that_exists() -> None:
    """The core's contract lists the application's modules by name: a new one must be added."""
    (core,) = [c for c in CONFIG["contracts"] if c["name"].startswith("The core imports the API")]
    application = {
        f"bot.{path.stem if path.suffix == '.py' else path.name}"
        for path in (ROOT / "bot").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert application - {"bot.mylivechat"} == set(core["forbidden_modules"]) - {"adapters"}
