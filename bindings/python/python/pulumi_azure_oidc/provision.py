"""Provisioning: ``apply``, ``status``, ``verify`` and ``destroy``, as the CLI runs them.

Each call blocks until the run ends and releases the GIL meanwhile, so other Python
threads keep running; the ``*_async`` variants run it in a worker thread for
``asyncio``. The keyword options are the core's run options (the same for every
face; unknown names are refused with ``InputError``):

``cloud`` (``public``, ``china``, ``usgov``), ``endpoint`` (send every Azure and Pulumi
Cloud request there, such as the emulator), ``login_url``, ``graph_url``, ``arm_url``,
``pulumi_api_url``, ``ca_file`` / ``ca_pem`` (an extra CA to trust), ``auth`` (``auto``,
``client-secret``, ``workload-identity``, ``managed-identity``, ``azure-cli``),
``azure_tenant_id`` / ``azure_client_id`` / ``azure_client_secret`` (instead of the
``AZURE_*`` variables), ``pulumi_access_token`` (instead of ``PULUMI_ACCESS_TOKEN`` or
the Pulumi CLI's login), ``concurrency`` and ``fast_retry``.

Failures raise ``OidcError`` subclasses: ``ApiError`` (``.status``,
``.service_code``) when a service refuses a request, ``AuthenticationError``,
``MissingCredentialsError``, ``UnreachableError``, ``RetriesExhaustedError``,
``InterruptedRunError``; ``InputError`` for a bad config or option. Secrets never
appear in reports, reprs or messages.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, Optional

from . import _native
from ._native import ApplyReport, DestroyReport, StatusReport, VerifyReport
from .errors import InputError

if TYPE_CHECKING:  # a stub-only alias: a dict, config text, or a path
    from ._native import ConfigInput

__all__ = [
    "adopt",
    "apply",
    "apply_async",
    "destroy",
    "destroy_async",
    "doctor",
    "status",
    "status_async",
    "verify",
    "verify_async",
]


# The core's code for options it cannot read, looked up rather than restated.
_INVALID_CONFIG: int = next(
    code for code, name in _native.error_codes().items() if name == "invalid_config"
)


def _options_json(options: Dict[str, Any]) -> str:
    """The options as the core's ``RunOptions`` JSON; paths become strings."""
    plain = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items()}
    try:
        return json.dumps(plain)
    except (TypeError, ValueError) as e:
        raise InputError(
            f"invalid options: {e}", _INVALID_CONFIG, None, "invalid_config"
        ) from None


def apply(
    config: ConfigInput,
    *,
    dry_run: bool = False,
    prune: bool = False,
    take_ownership: bool = False,
    **options: Any,
) -> ApplyReport:
    """Create or correct everything ``config`` describes: apps, service principals,
    federated credentials, role assignments, stack deployment settings, ESC
    environments. ``dry_run``: report what would change and write nothing. ``prune``:
    also remove credentials and apps this tool made that the config no longer names.
    Re-running a converged set-up writes nothing. ``take_ownership``: mark the
    existing apps the config pins (``holder:``), and the credentials in them it uses,
    as this tool's, so that ``destroy`` may remove them later."""
    text = _options_json(
        {**options, "dry_run": dry_run, "prune": prune, "take_ownership": take_ownership}
    )
    return _native.provision_apply(config, text)


def status(config: ConfigInput, **options: Any) -> StatusReport:
    """Compare the live state with ``config``'s plan: ``converged``, the changes
    ``apply`` would make, and each target's health. Reads only."""
    return _native.provision_status(config, _options_json(options))


def adopt(org: str, *, issuer: Optional[str] = None, **options: Any) -> Dict[str, Any]:
    """Describe ``org``'s live set-up, however it was made, as a config pinned to its
    existing apps (``holder: {clientId}``): ``apply`` with it changes nothing, and
    ``apply(..., take_ownership=True)`` marks the apps as managed. Reads only. A dict as
    ``pulumi-azure-oidc adopt --output json`` prints it: ``config`` (the YAML, with
    comments), ``adopted`` (targets), ``not_expressed`` and ``findings``."""
    return _native.provision_adopt(org, issuer, _options_json(options))


def doctor(
    config: Optional[ConfigInput] = None,
    *,
    stack: Optional[str] = None,
    env: Optional[str] = None,
    **options: Any,
) -> Dict[str, Any]:
    """Judge a live set-up, however it was made, and say what is wrong with the fix:
    every target of ``config``, or one ``stack`` (``"ORG/PROJECT/STACK"``) or ``env``
    (``"ORG/PROJECT/ENV"``). Reads only; needs no OIDC token. The report is a dict as
    ``pulumi-azure-oidc doctor --output json`` prints it: ``healthy``, ``checked`` and
    ``targets``, each with its ``findings`` (``kind``, ``severity`` ``"fault"`` or
    ``"advice"``, ``message``, ``fix``) and what it could not read (``unreadable``)."""
    return _native.provision_doctor(config, stack, env, _options_json(options))


def verify(
    config: Optional[ConfigInput] = None,
    *,
    token: Optional[str] = None,
    client_id: Optional[str] = None,
    tenant_id: Optional[str] = None,
    wait: int = 60,
    **options: Any,
) -> VerifyReport:
    """Exchange a Pulumi OIDC ``token`` (default: ``PULUMI_OIDC_TOKEN``) at the Entra
    token endpoint, as Azure's SDKs do. With a ``config`` its apps are tried; without,
    ``client_id`` and ``tenant_id`` (default: ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``)
    name the app. Propagation errors are retried for ``wait`` seconds. A refused token
    is a result: ``ok`` is False and each result has the AADSTS code and its
    diagnosis."""
    extra: Dict[str, Any] = {"wait_secs": wait}
    for key, value in (("token", token), ("client_id", client_id), ("tenant_id", tenant_id)):
        if value is not None:
            extra[key] = value
    return _native.provision_verify(config, _options_json({**options, **extra}))


def destroy(config: ConfigInput, **options: Any) -> DestroyReport:
    """Remove what this tool made for ``config``: its marked apps with their
    credentials and role assignments, and the OIDC settings it wrote. Objects it did
    not make are kept and listed in ``kept``."""
    return _native.provision_destroy(config, _options_json(options))


async def apply_async(
    config: ConfigInput, *, dry_run: bool = False, prune: bool = False, **options: Any
) -> ApplyReport:
    """``apply`` in a worker thread (``asyncio.to_thread``)."""
    import asyncio  # only here: importing it costs ~80 ms, more than the module itself

    return await asyncio.to_thread(apply, config, dry_run=dry_run, prune=prune, **options)


async def status_async(config: ConfigInput, **options: Any) -> StatusReport:
    """``status`` in a worker thread (``asyncio.to_thread``)."""
    import asyncio  # only here: importing it costs ~80 ms, more than the module itself

    return await asyncio.to_thread(status, config, **options)


async def verify_async(
    config: Optional[ConfigInput] = None,
    *,
    token: Optional[str] = None,
    client_id: Optional[str] = None,
    tenant_id: Optional[str] = None,
    wait: int = 60,
    **options: Any,
) -> VerifyReport:
    """``verify`` in a worker thread (``asyncio.to_thread``)."""
    import asyncio  # only here: importing it costs ~80 ms, more than the module itself

    return await asyncio.to_thread(
        verify, config, token=token, client_id=client_id, tenant_id=tenant_id, wait=wait, **options
    )


async def destroy_async(config: ConfigInput, **options: Any) -> DestroyReport:
    """``destroy`` in a worker thread (``asyncio.to_thread``)."""
    import asyncio  # only here: importing it costs ~80 ms, more than the module itself

    return await asyncio.to_thread(destroy, config, **options)
