"""The exceptions and warnings of pulumi_azure_oidc.

Every error carries ``code``, the core's stable number (the same in the CLI's JSON,
the C ``paoidc_status`` and the browser's ``err.code``); see ``error_codes()``.
Input problems are also ``ValueError``s. All of them pickle and unpickle intact.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

__all__ = [
    "ApiError",
    "AuthenticationError",
    "InputError",
    "InternalError",
    "InterruptedRunError",
    "MissingCredentialsError",
    "InsufficientRightsError",
    "OidcError",
    "OidcWarning",
    "RetriesExhaustedError",
    "UnreachableError",
    "VerificationError",
]


class OidcError(Exception):
    """Root of every error this package raises.

    ``code`` is the core's stable error code, ``kind`` its symbolic name
    (``invalid_stack``), ``path`` where in a config the error was found
    (``deployments[0].stacks[1]``), when it was found in one.
    """

    code: int
    path: Optional[str]
    kind: Optional[str]

    def __init__(
        self,
        message: str,
        code: int,
        path: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.kind = kind

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.code, self.path, self.kind))

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code})"


class InputError(OidcError, ValueError):
    """The caller's input is invalid: a name, a claim, a config, a token's shape."""


class InternalError(OidcError):
    """A bug: a Rust panic caught at the Python boundary (code 9003, as in C)."""


class ApiError(OidcError):
    """An Azure (Graph, ARM, Entra) or Pulumi Cloud API refused a request.

    ``status`` is the HTTP status, ``service_code`` the service's own error code
    (``Request_ResourceNotFound``, ``AADSTS70021``, ``RoleAssignmentExists``).
    Raised by provisioning (code 4002, ``service_error``).
    """

    status: Optional[int]
    service_code: Optional[str]

    def __init__(
        self,
        message: str,
        code: int,
        status: Optional[int] = None,
        service_code: Optional[str] = None,
        path: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message, code, path, kind)
        self.status = status
        self.service_code = service_code

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            type(self),
            (self.message, self.code, self.status, self.service_code, self.path, self.kind),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code}, "
            f"status={self.status}, service_code={self.service_code!r})"
        )


class AuthenticationError(OidcError):
    """Azure or Pulumi Cloud refused our credentials (code 4001)."""


class RetriesExhaustedError(OidcError):
    """A retryable failure (throttling, replication, 5xx) outlasted the retry budget
    (code 4003). Re-running continues where the run stopped."""


class UnreachableError(OidcError):
    """A service could not be reached: DNS, connection, TLS (code 4004)."""


class VerificationError(OidcError):
    """A token exchange failed in a way that is not a result (code 4005). A refused
    token is reported by ``verify`` as ``VerifyReport.ok == False`` instead."""


class MissingCredentialsError(OidcError):
    """A secret or token the call needs is not configured (code 4006); the message
    names the keyword argument or environment variable that supplies it."""


class InterruptedRunError(OidcError):
    """The run stopped before it finished (code 4007); re-running completes it."""


class InsufficientRightsError(OidcError):
    """The operator lacks a right the run needs (code 4008), found before anything
    was written; the message names the right and the ``permissions`` command that
    prints how to grant it."""


class OidcWarning(UserWarning):
    """A warning from the core: a broad role, the org-wide ``<yaml>`` subject, …"""
