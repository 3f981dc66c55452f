"""Pulumi Cloud -> Azure OIDC workload identity federation, computed.

The subjects, audiences and federated identity credentials Pulumi Deployments and
Pulumi ESC need in Entra, plans that pack them into apps of at most 20, renders
(``az`` script, ESC YAML, Pulumi programs, JSON) and diagnoses of tokens and AADSTS
errors: the same answers as the ``pulumi-azure-oidc`` CLI, from the same Rust core.

The Pulumi component resource lives in :mod:`pulumi_azure_oidc.pulumi` (install the
``[pulumi]`` extra).
"""

from ._native import (
    AppPlan,
    Candidate,
    Difference,
    ErrorDiagnosis,
    FederatedCredential,
    Plan,
    PlannedTarget,
    Presented,
    RoleGrant,
    TokenClaims,
    TokenDiagnosis,
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
from .errors import ApiError, InputError, InternalError, OidcError, OidcWarning

__version__ = version()

__all__ = [
    "ApiError",
    "AppPlan",
    "Candidate",
    "Difference",
    "ErrorDiagnosis",
    "FederatedCredential",
    "InputError",
    "InternalError",
    "OidcError",
    "OidcWarning",
    "Plan",
    "PlannedTarget",
    "Presented",
    "RoleGrant",
    "TokenClaims",
    "TokenDiagnosis",
    "__version__",
    "deployment_credentials",
    "diagnose_error",
    "diagnose_token",
    "error_codes",
    "esc_credentials",
    "esc_environment_yaml",
    "plan",
    "render",
    "version",
]
