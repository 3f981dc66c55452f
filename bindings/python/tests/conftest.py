"""Shared helpers. The tests import the *installed* package (the wheel), never the
source tree: `python/` is not on sys.path, and test_installed_wheel checks it."""

import base64
import json
import sys
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "support"))

from emulator_process import run_emulator  # noqa: E402,F401  (the suites import it from here)
VECTORS = Path(os.environ.get("PULUMI_AZURE_OIDC_VECTORS", REPO / "tests" / "vectors"))
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def cases(name: str) -> List[Dict[str, Any]]:
    doc = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    found = doc["cases"]
    assert found, f"{name} has no cases"
    return found


def unsigned_token(claims: Dict[str, Any]) -> str:
    def part(value: Dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture
def config_text() -> str:
    return (REPO / "examples" / "pulumi-azure-oidc.yaml").read_text(encoding="utf-8")


