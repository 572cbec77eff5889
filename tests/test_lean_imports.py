"""A serving process loads what serving needs: no scipy, no language-detection model.

Checked in a fresh interpreter (a subprocess), since this test process has
imported everything already.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SERVE_AND_SEARCH = """
import json, sys
from web import create_app
from search.analysis import stem
app = create_app({"KIOSQUE_INDEX_DIR": sys.argv[1]})
client = app.test_client()
statuses = [client.get(path).status_code for path in
            ("/api/search?q=élections+Maroc", "/?q=running", "/api/suggest?q=mar")]
import indexer.language
print(json.dumps({
    "statuses": statuses,
    "stems": [stem("fr", "elections"), stem("en", "running"), stem("es", "corriendo")],
    "modules": sorted(m for m in ("scipy", "scipy.stats") if m in sys.modules),
    "model_loaded": indexer.language._identifier is not None,
}))
"""
# where scipy is installed (it is not a dependency), it is blocked only while NLTK is imported
IMPORT_SCIPY_AFTER = "import scipy.stats\n"
HAS_SCIPY = importlib.util.find_spec("scipy") is not None


def _run(code: str, *args: str) -> dict[str, object]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_searching_through_the_web_app_imports_no_scipy(engine_index: Path) -> None:
    found = _run(SERVE_AND_SEARCH + (IMPORT_SCIPY_AFTER if HAS_SCIPY else ""), str(engine_index))
    assert found["statuses"] == [200, 200, 200]
    assert found["stems"] == ["elect", "run", "corr"]
    assert found["modules"] == []
    assert found["model_loaded"] is False


@pytest.mark.skipif(not HAS_SCIPY, reason="scipy is not installed")
def test_scipy_already_imported_is_left_alone() -> None:
    code = (
        "import json, sys, scipy.stats\n"
        "from search.analysis import stem\n"
        "print(json.dumps({'stem': stem('fr', 'maisons'), 'kept': sys.modules['scipy.stats']"
        " is scipy.stats}))"
    )
    assert _run(code) == {"stem": "maison", "kept": True}
