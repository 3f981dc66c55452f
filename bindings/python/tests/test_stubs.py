"""The handwritten stub matches the compiled module, and the package and the
examples type-check against it."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES

ALLOWLIST = Path(__file__).with_name("stubtest-allowlist.txt")
CONFIG = Path(__file__).with_name("mypy.ini")


def run(cache: Path, *args: str) -> str:
    # mypy's cache goes to a temporary folder, never into the source tree.
    env = {**os.environ, "MYPY_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_stubtest(tmp_path: Path) -> None:
    run(tmp_path, "mypy.stubtest", "pulumi_azure_oidc._native", "--allowlist", str(ALLOWLIST))


def test_package_and_examples_type_check(tmp_path: Path) -> None:
    targets = [str(EXAMPLES / "esc-oidc-azure" / "__main__.py"), str(EXAMPLES / "deployments-oidc-azure" / "__main__.py")]
    # Both runs share one cache: pulumi-azure-native is large, analysing it twice is slow.
    config = ("--config-file", str(CONFIG))
    run(tmp_path, "mypy", *config, "--strict", "-p", "pulumi_azure_oidc")
    for target in targets:  # one at a time: both are modules named __main__
        run(tmp_path, "mypy", *config, "--check-untyped-defs", target)
