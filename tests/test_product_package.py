"""The product package stands alone: it declares no dependency on the simulated organisation
(org_simulator, the demo's and the tests' workspace member) and every one of its modules
imports with that package absent."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports every module of `pipelines` (but `__main__`, which runs the command line) with the
# simulator made unimportable, as on a machine where only the product is installed.
IMPORT_ALL = """
import importlib, pkgutil, sys

class NoSimulator:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "org_simulator":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoSimulator())
import pipelines
names = [m.name for m in pkgutil.walk_packages(pipelines.__path__, "pipelines.")]
for name in names:
    if not name.endswith("__main__"):
        importlib.import_module(name)
print(len(names))
"""


def test_the_product_declares_no_dependency_on_the_simulator():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if "simulator" in d]
    assert project["name"] != "org-simulator"


def test_every_product_module_imports_without_the_simulator():
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) > 50  # every module was walked


def test_the_blocker_really_blocks():
    code = IMPORT_ALL.replace("import pipelines", "import org_simulator.server\nimport pipelines")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and "No module named 'org_simulator" in done.stderr
