"""The rating engine is plain Python: it imports nothing from Django (an actuary uses it alone)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys
sys.modules["django"] = None  # any `import django...` now fails
import keizoku.rating.engine, keizoku.rating.explain, keizoku.rating.plans
import keizoku.rating.eligibility, keizoku.rating.grades, keizoku.rating.tables
from keizoku.rating.tests.inputs import example_input
print(keizoku.rating.engine.quote(example_input()).annual_premium)
assert not any(name.startswith("django") and sys.modules[name] for name in sys.modules)
"""


def test_the_package_imports_and_prices_without_django():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "71720"


def test_no_module_of_the_package_mentions_django():
    package = ROOT / "keizoku" / "rating"
    offenders = [
        path.name
        for path in package.rglob("*.py")
        if "tests" not in path.parts and "django" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
