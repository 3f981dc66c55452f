"""Shared helpers. The tests import the *installed* package (the wheel), never the
source tree: `python/` is not on sys.path, and test_installed_wheel checks it."""

import base64
import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[3]
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


def emulator_binary() -> Path:
    """The emulator binary in the Cargo target directory; fails (never skips) when missing."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    path = target / "debug" / "pulumi-azure-oidc-emulator"
    if not path.is_file():
        pytest.fail(
            f"{path} does not exist: build it first with "
            "`cargo build -p pulumi-azure-oidc-emulator` (cargo xtask test builds the workspace)"
        )
    return path


@contextlib.contextmanager
def run_emulator(tmp: Path, *args: str) -> Iterator[Dict[str, str]]:
    """Start the emulator binary (its CA written into `tmp`), wait for `ready`, and
    yield the `key=value` lines it printed (https_url, http_url, tenant_id, client_id,
    ca_file, …). Stops it with SIGTERM afterwards; it must exit cleanly."""
    process = subprocess.Popen(
        [str(emulator_binary()), "--ca-file", str(tmp / "ca.pem"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: "queue.Queue[str]" = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    info: Dict[str, str] = {}
    try:
        while True:
            line = lines.get(timeout=30)
            if line == "ready":
                break
            key, sep, value = line.partition("=")
            if sep:
                info[key] = value
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, f"the emulator exited with {code}"
