"""Pulumi Cloud -> Azure OIDC workload identity federation, computed.

The subjects, audiences and federated identity credentials Pulumi Deployments and
Pulumi ESC need in Entra, plans that pack them into apps of at most 20, renders
(``az`` script, ESC YAML, Pulumi programs, JSON) and diagnoses of tokens and AADSTS
errors: the same answers as the ``pulumi-azure-oidc`` CLI, from the same Rust core.

Provisioning (``apply``, ``status``, ``verify``, ``destroy`` and their ``*_async``
forms) runs the CLI's executor against Azure and Pulumi Cloud; see
:mod:`pulumi_azure_oidc.provision`. The Pulumi component resource lives in
:mod:`pulumi_azure_oidc.pulumi` (install the ``[pulumi]`` extra).
"""

from ._native import (
    AppPlan,
    AppSummary,
    ApplyReport,
    Candidate,
    DestroyReport,
    Difference,
    ErrorDiagnosis,
    FederatedCredential,
    Plan,
    PlannedTarget,
    Presented,
    RequestCounts,
    RoleGrant,
    StatusReport,
    TargetHealth,
    TokenClaims,
    TokenDiagnosis,
    UnmanagedCredential,
    VerifyReport,
    VerifyResult,
    deployment_credentials,
    diagnose_error,
    diagnose_token,
    error_codes,
    esc_credentials,
    esc_environment_yaml,
    plan,
    render,
    version,
)
from .errors import (
    ApiError,
    AuthenticationError,
    InputError,
    InternalError,
    InterruptedRunError,
    MissingCredentialsError,
    OidcError,
    OidcWarning,
    RetriesExhaustedError,
    UnreachableError,
    VerificationError,
)
from .provision import (
    apply,
    apply_async,
    destroy,
    destroy_async,
    doctor,
    status,
    status_async,
    verify,
    verify_async,
)

__version__ = version()

__all__ = [
    "ApiError",
    "AppPlan",
    "AppSummary",
    "ApplyReport",
    "AuthenticationError",
    "Candidate",
    "DestroyReport",
    "Difference",
    "ErrorDiagnosis",
    "FederatedCredential",
    "InputError",
    "InternalError",
    "InterruptedRunError",
    "MissingCredentialsError",
    "OidcError",
    "OidcWarning",
    "Plan",
    "PlannedTarget",
    "Presented",
    "RequestCounts",
    "RetriesExhaustedError",
    "RoleGrant",
    "StatusReport",
    "TargetHealth",
    "TokenClaims",
    "TokenDiagnosis",
    "UnmanagedCredential",
    "UnreachableError",
    "VerificationError",
    "VerifyReport",
    "VerifyResult",
    "__version__",
    "apply",
    "apply_async",
    "deployment_credentials",
    "destroy",
    "destroy_async",
    "doctor",
    "diagnose_error",
    "diagnose_token",
    "error_codes",
    "esc_credentials",
    "esc_environment_yaml",
    "plan",
    "render",
    "status",
    "status_async",
    "verify",
    "verify_async",
    "version",
]
