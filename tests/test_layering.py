"""The pure packages never import Streamlit; imports go app -> optimiser -> estate."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_importing_estate_and_optimiser_does_not_import_streamlit():
    code = (
        "import sys, estate, optimiser, optimiser.cli;"
        "import pkgutil, importlib;"
        "[importlib.import_module('optimiser.' + m.name) for m in pkgutil.iter_modules(optimiser.__path__)"
        " if m.name not in ('__main__',)];"
        "[importlib.import_module('estate.' + m.name) for m in pkgutil.iter_modules(estate.__path__)];"
        "print('streamlit' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"


def test_estate_does_not_import_optimiser():
    for path in (REPO / "estate").rglob("*.py"):
        text = path.read_text()
        assert "import optimiser" not in text and "from optimiser" not in text, path
