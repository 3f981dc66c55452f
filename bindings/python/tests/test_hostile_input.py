"""Hostile input through the Python face: text that cannot be UTF-8 (lone surrogates,
bytes), oversized and pathological input. Each must raise a clean exception (an
InputError naming the rule, or the TypeError/ValueError Python itself raises for a
str that cannot be encoded), never crash the interpreter or echo a token."""

from pathlib import Path
from typing import Any, Callable

import pytest

import pulumi_azure_oidc as oidc
from conftest import unsigned_token

GUID = "11111111-1111-1111-1111-111111111111"
CONFIG = "org: contoso\nesc:\n  - project: azure\n    env: prod\n"

# Each offline entry point, with the value under test in one string argument.
CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("deployment_credentials org", lambda v: oidc.deployment_credentials(v, "core", "dev")),
    ("deployment_credentials stack", lambda v: oidc.deployment_credentials("contoso", "core", v)),
    ("deployment_credentials issuer", lambda v: oidc.deployment_credentials("contoso", "core", "dev", issuer=v)),
    ("esc_credentials env", lambda v: oidc.esc_credentials("contoso", "azure", v)),
    ("esc_credentials user", lambda v: oidc.esc_credentials(
        "contoso", "azure", "prod", subject_attributes=["pulumi.user.login"], user=v)),
    ("esc_environment_yaml client id", lambda v: oidc.esc_environment_yaml(
        "contoso", "azure", "prod", client_id=v, tenant_id=GUID)),
    ("plan text", lambda v: oidc.plan(CONFIG + v if isinstance(v, str) else v)),
    ("plan path", lambda v: oidc.plan(v)),
    ("render format", lambda v: oidc.render(CONFIG, v)),
    ("render tenant", lambda v: oidc.render(CONFIG, "esc", tenant_id=v)),
    ("diagnose_token", lambda v: oidc.diagnose_token(v)),
    ("diagnose_token credentials", lambda v: oidc.diagnose_token(
        unsigned_token({"sub": "x"}), v)),
    ("diagnose_error", lambda v: oidc.diagnose_error(v)),
]

NOT_UTF8 = [
    pytest.param("dev\ud800", id="lone-high-surrogate"),
    pytest.param("\udfff", id="lone-low-surrogate"),
    pytest.param("AADSTS70021\udc80", id="surrogateescape-byte"),
    pytest.param(b"dev\xff\xfe", id="bytes"),
    pytest.param(bytearray(b"\x80"), id="bytearray"),
]


@pytest.mark.parametrize("value", NOT_UTF8)
@pytest.mark.parametrize("what,call", CALLS, ids=[c[0] for c in CALLS])
def test_text_that_is_not_utf8_raises_cleanly(what: str, call: Callable[[Any], Any], value: Any) -> None:
    with pytest.raises((oidc.InputError, TypeError, ValueError)) as info:
        call(value)
    assert str(info.value), what
    # A str that cannot be encoded is a ValueError (UnicodeEncodeError); bytes are a TypeError.
    if isinstance(value, str):
        assert isinstance(info.value, ValueError), (what, type(info.value))


def test_a_config_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"org: cont\xffoso\n")
    with pytest.raises(oidc.InputError) as info:
        oidc.plan(path)
    assert info.value.code == 1019
    assert "bad.yaml" in str(info.value)


def test_control_characters_in_names_are_refused_and_escaped() -> None:
    with pytest.raises(oidc.InputError) as info:
        oidc.deployment_credentials("contoso", "core", "dev\x1b[2J\x07")
    message = str(info.value)
    assert info.value.code == 1003
    assert "\x1b" not in message and "\x07" not in message
    assert "\\u{1b}" in message and "letters, digits" in message


def test_a_ten_megabyte_token_is_refused_by_size_without_echo() -> None:
    token = unsigned_token({"sub": "s3cr3t" * (2 * 1024 * 1024)})
    assert len(token) > 10 * 1024 * 1024
    with pytest.raises(oidc.InputError) as info:
        oidc.diagnose_token(token)
    assert info.value.code == 1021
    message = str(info.value)
    assert "the token" in message and "65536" in message
    assert token[-40:] not in message and len(message) < 200


def test_pathological_configs_are_refused_by_their_limit() -> None:
    cases = [
        ("org: " + "[" * 100_000 + "\n", "nest"),
        ("org: contoso\nesc:\n" + "- " * 100_000 + "x\n", "nest"),
        (CONFIG + "#" * (50 * 1024 * 1024), "1048576"),
        ("org: contoso\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
         + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdef", "bcdefg")),
         "alias"),
    ]
    for text, needle in cases:
        with pytest.raises(oidc.InputError) as info:
            oidc.plan(text)
        assert needle in str(info.value), str(info.value)[:200]
        assert len(str(info.value)) < 400


def test_a_huge_str_without_a_line_break_is_a_path_named_briefly() -> None:
    # A str without a line break names a file: the error names it, abbreviated.
    with pytest.raises(oidc.InputError) as info:
        oidc.plan("org: " + "[" * 100_000)
    assert info.value.code == 1019
    assert "… (100019 characters)" in str(info.value) and len(str(info.value)) < 400
