"""The wheel's `pulumi-azure-oidc` command: the native CLI run through the module."""

import subprocess
import sys

import pytest

import pulumi_azure_oidc
from pulumi_azure_oidc.cli import main


def test_version_matches_the_module(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["pulumi-azure-oidc", "--version"]) == 0
    assert capfd.readouterr().out.strip() == f"pulumi-azure-oidc {pulumi_azure_oidc.__version__}"


def test_subjects_print_the_four_operations(capfd: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["x", "subjects", "deployments", "--org", "contoso", "--project", "core", "--stack", "dev"]
    )
    out = capfd.readouterr().out.split()
    assert status == 0
    assert [s.split(":operation:")[1] for s in out] == [
        "preview:scope:write",
        "update:scope:write",
        "refresh:scope:write",
        "destroy:scope:write",
    ]


def test_a_usage_error_returns_2_without_exiting_python(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["pulumi-azure-oidc", "no-such-command"]) == 2
    assert "unrecognized subcommand 'no-such-command'" in capfd.readouterr().err


def test_invalid_input_names_the_value(capfd: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["pulumi-azure-oidc", "subjects", "deployments", "--org", "bad org", "--project", "p", "--stack", "s"]
    )
    assert status == 2
    assert "bad org" in capfd.readouterr().err


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pulumi_azure_oidc", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pulumi-azure-oidc {pulumi_azure_oidc.__version__}"


def test_the_console_script_is_installed() -> None:
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("pulumi-azure-oidc") == "pulumi_azure_oidc.cli:main"
