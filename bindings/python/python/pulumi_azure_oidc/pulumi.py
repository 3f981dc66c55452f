"""``AzureOidcTrust``: the whole Pulumi Cloud -> Azure OIDC set-up as one Pulumi component.

Needs the ``[pulumi]`` extra (``pulumi``, ``pulumi-azuread``, ``pulumi-azure-native``);
nothing else in this package imports Pulumi.

The set-up is planned by the core, exactly as ``pulumi-azure-oidc plan`` plans it:
every Deployments stack gets one credential per operation, every ESC environment its
subject(s), credentials are packed into apps of at most 20 without splitting a target
or mixing role sets. For each planned app the component creates, with
``pulumi_azuread``, the application, its service principal and one
``ApplicationFederatedIdentityCredential`` per credential, and with
``pulumi_azure_native.authorization.RoleAssignment`` each role the app's targets ask
for (granted to the service principal's object id, ``principal_type="ServicePrincipal"``).
A holder the config places in a user-assigned managed identity
(``holder: managedIdentity``) is made with ``pulumi_azure_native.managedidentity``
instead: the identity, and its credentials one after another (Azure refuses
concurrent credential writes to one identity), its roles granted to its principal id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence

import pulumi
import pulumi_azure_native
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, managedidentity

from . import _native
from ._native import AppPlan, Plan, PlannedTarget
from .errors import OidcError

if TYPE_CHECKING:
    from ._native import ConfigInput

__all__ = ["AzureOidcTrust", "TrustApp"]

# The core's limit and error code for a set-up that does not fit the apps allowed
# (docs/errors.md), read from the core rather than restated.
_CONSTANTS = _native.constants()
_MAX_PER_APP: int = _CONSTANTS["max_credentials_per_app"]
_CREDENTIAL_LIMIT_EXCEEDED: int = next(
    e["code"] for e in _CONSTANTS["error_codes"] if e["name"] == "credential_limit_exceeded"
)


def _render_esc(target: PlannedTarget) -> Callable[[List[Any]], str]:
    def render(ids: List[Any]) -> str:
        return target.esc_environment_yaml(
            client_id=ids[0], tenant_id=ids[1], subscription_id=ids[2]
        )

    return render


class TrustApp:
    """The resources of one planned holder: an app with its service principal, or a
    user-assigned managed identity (then ``application`` and ``service_principal`` are
    None and ``identity`` is set)."""

    def __init__(
        self,
        plan: AppPlan,
        application: Optional[azuread.Application],
        service_principal: Optional[azuread.ServicePrincipal],
        credentials: List[pulumi.CustomResource],
        role_assignments: List[authorization.RoleAssignment],
        identity: Optional[managedidentity.UserAssignedIdentity] = None,
    ) -> None:
        self.plan = plan
        self.application = application
        self.service_principal = service_principal
        self.identity = identity
        self.credentials = credentials
        self.role_assignments = role_assignments

    @property
    def client_id(self) -> pulumi.Output[str]:
        if self.identity is not None:
            client_id: pulumi.Output[str] = self.identity.client_id
            return client_id
        assert self.application is not None
        return self.application.client_id


class AzureOidcTrust(pulumi.ComponentResource):
    """Entra apps, service principals, federated credentials and role assignments that
    let Pulumi Deployments stacks and ESC environments log in to Azure with OIDC.

    Give either ``config`` (what :func:`pulumi_azure_oidc.plan` takes: a dict, config
    text or a path, in the schema of ``pulumi-azure-oidc.yaml``), or ``org`` with
    ``deployments`` and/or ``esc`` (the same entries as the config's lists, e.g.
    ``{"project": "core", "stacks": ["dev", "prod"], "roles": [...]}``).

    A set-up that needs more than one app (over 20 credentials, or targets with
    different roles) is refused with an :class:`OidcError` (code 3001) unless
    ``allow_multiple_apps=True``; then one app is created per planned app, and
    ``client_id`` is unknown (use ``client_ids`` and ``apps``).

    Outputs: ``client_id`` (single app; None otherwise), ``client_ids`` (unique name -> client id),
    ``tenant_id``, ``credential_names`` and ``esc_yaml`` (``"project/env"`` -> the ESC
    environment definition, for every ESC environment in the set-up).
    """

    plan: Plan
    apps: List[TrustApp]
    client_id: Optional[pulumi.Output[str]]
    client_ids: pulumi.Output[Dict[str, str]]
    tenant_id: pulumi.Output[str]
    credential_names: pulumi.Output[List[str]]
    esc_yaml: pulumi.Output[Dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        config: Optional[ConfigInput] = None,
        *,
        org: Optional[str] = None,
        deployments: Optional[Sequence[Mapping[str, Any]]] = None,
        esc: Optional[Sequence[Mapping[str, Any]]] = None,
        issuer: Optional[str] = None,
        tenant_id: Optional[pulumi.Input[str]] = None,
        subscription_id: Optional[pulumi.Input[str]] = None,
        allow_multiple_apps: bool = False,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("pulumi-azure-oidc:index:AzureOidcTrust", resource_name, None, opts)
        if config is None:
            config = {"org": org, "deployments": list(deployments or []), "esc": list(esc or [])}
            if issuer is not None:
                config["issuer"] = issuer
        elif org is not None or deployments is not None or esc is not None or issuer is not None:
            raise TypeError("give either `config`, or `org` with `deployments`/`esc`, not both")
        self.plan = _native.plan(config)
        if len(self.plan.apps) > 1 and not allow_multiple_apps:
            reasons = "; ".join(f"{a.unique_name}: {a.reason}" for a in self.plan.apps)
            raise OidcError(
                f"this set-up needs {len(self.plan.apps)} Entra apps ({self.plan.credential_count} "
                f"credentials; an app holds at most {_MAX_PER_APP}, and targets share one only with the "
                f"same roles): {reasons}; pass allow_multiple_apps=True to create them all, "
                f"each target then uses its own app's client id",
                _CREDENTIAL_LIMIT_EXCEEDED,
                None,
                "credential_limit_exceeded",
            )

        child = pulumi.ResourceOptions(parent=self)
        if tenant_id is None:
            tenant_id = self.plan.tenant_id
        if tenant_id is None:
            tenant_id = azuread.get_client_config_output(opts=pulumi.InvokeOptions(parent=self)).tenant_id
        if subscription_id is None:
            subscription_id = self.plan.subscription_id
        tenant = pulumi.Output.from_input(tenant_id)

        self.apps = [self._app(resource_name, app, child) for app in self.plan.apps]

        yaml: Dict[str, pulumi.Output[str]] = {}
        for app in self.apps:
            for target in app.plan.targets:
                if target.kind != "esc":
                    continue
                yaml[f"{target.project}/{target.env}"] = pulumi.Output.all(
                    app.client_id, tenant, subscription_id
                ).apply(_render_esc(target))

        self.client_ids = pulumi.Output.all(
            **{a.plan.unique_name: a.client_id for a in self.apps}
        ).apply(dict)
        self.client_id = self.apps[0].client_id if len(self.apps) == 1 else None
        self.tenant_id = tenant
        self.credential_names = pulumi.Output.from_input(
            [c.name for a in self.plan.apps for c in a.credentials]
        )
        self.esc_yaml = pulumi.Output.all(**yaml).apply(dict) if yaml else pulumi.Output.from_input({})
        outputs: Dict[str, Any] = {
            "clientIds": self.client_ids,
            "tenantId": self.tenant_id,
            "credentialNames": self.credential_names,
            "escYaml": self.esc_yaml,
        }
        if self.client_id is not None:
            outputs["clientId"] = self.client_id
        self.register_outputs(outputs)

    def _identity(self, name: str, app: AppPlan, opts: pulumi.ResourceOptions) -> TrustApp:
        group = app.resource_group or ""
        # The identity lives in the subscription the config names, whatever the
        # default provider's is; its credentials follow it as its children.
        provider = pulumi_azure_native.Provider(
            f"{name}-provider", subscription_id=app.subscription_id, opts=opts
        )
        identity = managedidentity.UserAssignedIdentity(
            name,
            resource_name_=app.unique_name,
            resource_group_name=group,
            location=app.location,
            tags={t: "" for t in app.tags},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
        )
        credentials: List[pulumi.CustomResource] = []
        for c in app.credentials:
            # One at a time: each waits for the one before it.
            after = pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    provider=provider, depends_on=[credentials[-1] if credentials else identity]
                ),
            )
            credentials.append(
                managedidentity.FederatedIdentityCredential(
                    f"{name}-{c.name}",
                    federated_identity_credential_resource_name=c.name,
                    resource_name_=identity.name,
                    resource_group_name=group,
                    issuer=c.issuer,
                    subject=c.subject,
                    audiences=[c.audience],
                    opts=after,
                )
            )
        roles = [
            authorization.RoleAssignment(
                f"{name}-role-{i + 1}",
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=grant.role_definition_id,
                scope=grant.scope,
                opts=opts,
            )
            for i, grant in enumerate(app.roles)
        ]
        return TrustApp(app, None, None, credentials, roles, identity)

    def _app(self, prefix: str, app: AppPlan, opts: pulumi.ResourceOptions) -> TrustApp:
        # Child names start with the component's name, so two components never collide.
        name = f"{prefix}-{app.unique_name}"
        if app.identity_id is not None:
            return self._identity(name, app, opts)
        application = azuread.Application(
            name,
            display_name=app.display_name,
            sign_in_audience="AzureADMyOrg",
            tags=list(app.tags),
            opts=opts,
        )
        sp = azuread.ServicePrincipal(f"{name}-sp", client_id=application.client_id, opts=opts)
        # Federated credentials take `/applications/<objectId>`, not the client id.
        app_id = application.object_id.apply(lambda oid: f"/applications/{oid}")
        credentials: List[pulumi.CustomResource] = [
            azuread.ApplicationFederatedIdentityCredential(
                f"{name}-{c.name}",
                application_id=app_id,
                display_name=c.name,
                issuer=c.issuer,
                subject=c.subject,
                audiences=[c.audience],
                description=c.description,
                opts=opts,
            )
            for c in app.credentials
        ]
        roles = [
            authorization.RoleAssignment(
                f"{name}-role-{i + 1}",
                # The service principal's bare object id (not its `id`, which is
                # `/servicePrincipals/<objectId>` in pulumi-azuread 6).
                principal_id=sp.object_id,
                principal_type="ServicePrincipal",
                role_definition_id=grant.role_definition_id,
                scope=grant.scope,
                opts=opts,
            )
            for i, grant in enumerate(app.roles)
        ]
        return TrustApp(app, application, sp, credentials, roles)
