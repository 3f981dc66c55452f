"""Starting and stopping the emulator binary, for the Python suites (the module's
tests in bindings/python/tests and the official clients' in tests/clients)."""

import contextlib
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import Dict, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]


def emulator_binary() -> Path:
    """The emulator binary: `PULUMI_AZURE_OIDC_EMULATOR`, else the Cargo target
    directory's debug build. Fails, never skips, when it is missing."""
    explicit = os.environ.get("PULUMI_AZURE_OIDC_EMULATOR")
    if explicit:
        path = Path(explicit)
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
        if not target.is_absolute():
            target = REPO / target
        path = target / "debug" / "pulumi-azure-oidc-emulator"
    if not path.is_file():
        pytest.fail(
            f"{path} does not exist: build it with `cargo build -p pulumi-azure-oidc-emulator` "
            "or set PULUMI_AZURE_OIDC_EMULATOR"
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
