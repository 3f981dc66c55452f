"""``AzureOidcTrust``: the whole Pulumi Cloud -> Azure OIDC set-up as one Pulumi component.

Needs the ``[pulumi]`` extra (``pulumi``, ``pulumi-azuread``, ``pulumi-azure-native``,
``pulumi-pulumiservice``); nothing else in this package imports Pulumi.

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

The Pulumi Cloud side (``pulumi_cloud=True``, the default) is made with
``pulumi_pulumiservice``: for each Deployments stack a ``DeploymentSettings`` whose
operation context turns on Azure OIDC with its holder's client id, and for each ESC
environment an ``Environment`` holding the definition the core renders for it.

Resource names come from the plan's stable names (the app's unique name, the
credential's name, the stack's or environment's ``project/name``), so running the
program again replaces nothing, and appending a target to the config adds resources
without touching the existing ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Dict, List, Mapping, Optional, Sequence

import pulumi
import pulumi_azure_native
import pulumi_azuread as azuread
import pulumi_pulumiservice as pulumiservice
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

# The DeploymentSettings arguments a caller may hand through `deployment_settings`;
# organization, project and stack come from the plan, the OIDC block from the holder.
_SETTINGS_ARGS = frozenset(
    {"agent_pool_id", "cache_options", "executor_context", "operation_context", "source_context", "vcs"}
)


def _render_esc(target: PlannedTarget) -> Callable[[List[Any]], str]:
    def render(ids: List[Any]) -> str:
        return target.esc_environment_yaml(
            client_id=ids[0], tenant_id=ids[1], subscription_id=ids[2]
        )

    return render


def _short(target: PlannedTarget) -> str:
    """``project/stack`` or ``project/env``: the target within the plan's one org."""
    return f"{target.project}/{target.stack if target.kind == 'deployment' else target.env}"


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
        """The client id the holder's targets log in with: the application's, or the
        managed identity's."""
        if self.identity is not None:
            client_id: pulumi.Output[str] = self.identity.client_id
            return client_id
        assert self.application is not None
        return self.application.client_id

    def ready_for(self, target: PlannedTarget) -> List[pulumi.Resource]:
        """What must exist before ``target`` may log in: its credentials, the holder's
        role assignments and (for an app) its service principal."""
        wanted = set(target.credential_names)
        mine = [r for c, r in zip(self.plan.credentials, self.credentials) if c.name in wanted]
        extra: List[pulumi.Resource] = [self.service_principal] if self.service_principal else []
        return [*mine, *self.role_assignments, *extra]


class AzureOidcTrust(pulumi.ComponentResource):
    """Everything that lets Pulumi Deployments stacks and ESC environments log in to
    Azure with OIDC: Entra apps (or managed identities), service principals, federated
    credentials and role assignments in Azure, and the stacks' deployment settings and
    the ESC environments in Pulumi Cloud.

    Give either ``config`` (what :func:`pulumi_azure_oidc.plan` takes: a dict, config
    text or a path, in the schema of ``pulumi-azure-oidc.yaml``), or ``org`` with
    ``deployments`` and/or ``esc`` (the same entries as the config's lists, e.g.
    ``{"project": "core", "stacks": ["dev", "prod"], "roles": [...]}``).

    A set-up that needs more than one app (over 20 credentials, or targets with
    different roles) is refused with an :class:`OidcError` (code 3001) unless
    ``allow_multiple_apps=True``; then one app is created per planned app, and
    ``client_id`` is None (use ``client_ids``, ``target_client_ids`` and ``apps``).

    With ``pulumi_cloud=True`` (the default) the component also creates, per
    Deployments stack, a ``pulumiservice.DeploymentSettings`` with
    ``operation_context.oidc.azure`` set to the stack's client id, the tenant and the
    subscription, and per ESC environment a ``pulumiservice.Environment`` holding the
    rendered definition. Both are written whole by the provider (deployment settings
    with a replacing ``PUT``), so settings a stack already has are replaced: hand them
    in through ``deployment_settings`` (``"project/stack"`` -> other
    ``DeploymentSettings`` arguments such as ``source_context`` or ``vcs``; an
    ``operation_context`` mapping is kept, its ``oidc`` added), or pass
    ``pulumi_cloud=False`` and use :meth:`azure_oidc` in settings of your own. The
    subscription is ``subscription_id``, else the config's ``azure.subscription``,
    else (when deployment settings are made, which require one) the subscription of
    the default ``azure-native`` provider.

    Outputs: ``client_id`` (single holder; None otherwise), ``client_ids`` (unique name
    -> client id), ``target_client_ids`` (target key such as
    ``deploy:contoso/core/dev`` -> client id), ``tenant_id``, ``subscription_id``,
    ``credential_names``, ``esc_yaml`` (``"project/env"`` -> the ESC environment
    definition, for every ESC environment in the set-up) and ``plan_dict`` (the plan as
    ``pulumi-azure-oidc plan --output json`` prints it).
    """

    plan: Plan
    apps: List[TrustApp]
    deployment_settings: Dict[str, pulumiservice.DeploymentSettings]
    environments: Dict[str, pulumiservice.Environment]
    client_id: Optional[pulumi.Output[str]]
    client_ids: pulumi.Output[Dict[str, str]]
    target_client_ids: pulumi.Output[Dict[str, str]]
    tenant_id: pulumi.Output[str]
    subscription_id: pulumi.Output[Optional[str]]
    credential_names: pulumi.Output[List[str]]
    esc_yaml: pulumi.Output[Dict[str, str]]
    plan_dict: pulumi.Output[Dict[str, Any]]

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
        pulumi_cloud: bool = True,
        deployment_settings: Optional[Mapping[str, Mapping[str, Any]]] = None,
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
        planned = self.plan.to_dict()
        _refuse_pinned(planned)
        stacks = [t for a in self.plan.apps for t in a.targets if t.kind == "deployment"]
        extra = _check_settings(deployment_settings, {_short(t) for t in stacks}, pulumi_cloud)

        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        if tenant_id is None:
            tenant_id = self.plan.tenant_id
        if tenant_id is None:
            tenant_id = azuread.get_client_config_output(opts=invoke).tenant_id
        if subscription_id is None:
            subscription_id = self.plan.subscription_id
        if subscription_id is None and pulumi_cloud and stacks:
            subscription_id = authorization.get_client_config_output(opts=invoke).subscription_id
        self._has_subscription = subscription_id is not None
        tenant = pulumi.Output.from_input(tenant_id)
        subscription: pulumi.Output[Optional[str]] = pulumi.Output.from_input(subscription_id)

        self.apps = [self._app(resource_name, app, child) for app in self.plan.apps]

        yaml: Dict[str, pulumi.Output[str]] = {}
        by_target: Dict[str, pulumi.Output[str]] = {}
        self.deployment_settings = {}
        self.environments = {}
        for app in self.apps:
            for target in app.plan.targets:
                by_target[target.key] = app.client_id
                after = pulumi.ResourceOptions(parent=self, depends_on=app.ready_for(target))
                if target.kind == "deployment":
                    if pulumi_cloud:
                        self.deployment_settings[_short(target)] = self._settings(
                            resource_name, target, app, tenant, subscription, extra, after
                        )
                    continue
                text = pulumi.Output.all(app.client_id, tenant, subscription).apply(_render_esc(target))
                yaml[_short(target)] = text
                if pulumi_cloud:
                    self.environments[_short(target)] = pulumiservice.Environment(
                        f"{resource_name}-env-{_short(target)}",
                        organization=target.org,
                        project=target.project,
                        name=target.env,
                        yaml=text.apply(pulumi.StringAsset),
                        opts=after,
                    )

        self.client_ids = pulumi.Output.all(
            **{a.plan.unique_name: a.client_id for a in self.apps}
        ).apply(dict)
        self.target_client_ids = (
            pulumi.Output.all(**by_target).apply(dict) if by_target else pulumi.Output.from_input({})
        )
        self.client_id = self.apps[0].client_id if len(self.apps) == 1 else None
        self.tenant_id = tenant
        self.subscription_id = subscription
        self.credential_names = pulumi.Output.from_input(
            [c.name for a in self.plan.apps for c in a.credentials]
        )
        self.esc_yaml = pulumi.Output.all(**yaml).apply(dict) if yaml else pulumi.Output.from_input({})
        self.plan_dict = pulumi.Output.from_input(planned)
        outputs: Dict[str, Any] = {
            "clientIds": self.client_ids,
            "targetClientIds": self.target_client_ids,
            "tenantId": self.tenant_id,
            "subscriptionId": self.subscription_id,
            "credentialNames": self.credential_names,
            "escYaml": self.esc_yaml,
            "plan": self.plan_dict,
        }
        if self.client_id is not None:
            outputs["clientId"] = self.client_id
        self.register_outputs(outputs)

    def azure_oidc(self, stack: str) -> pulumiservice.OperationContextOIDCArgs:
        """The ``oidc`` block of deployment settings for ``stack`` (``"project/stack"``),
        for settings managed outside this component (``pulumi_cloud=False``)."""
        for app in self.apps:
            for target in app.plan.targets:
                if target.kind == "deployment" and _short(target) == stack:
                    subscription = self.subscription_id
                    if not self._has_subscription:
                        subscription = authorization.get_client_config_output(
                            opts=pulumi.InvokeOptions(parent=self)
                        ).subscription_id
                    return _oidc(app.client_id, self.tenant_id, subscription)
        known = sorted(
            _short(t) for a in self.plan.apps for t in a.targets if t.kind == "deployment"
        )
        raise KeyError(f"{stack!r} is not a Deployments stack of this set-up (stacks: {known})")

    def _settings(
        self,
        prefix: str,
        target: PlannedTarget,
        app: TrustApp,
        tenant: pulumi.Output[str],
        subscription: pulumi.Output[Optional[str]],
        extra: Mapping[str, Mapping[str, Any]],
        opts: pulumi.ResourceOptions,
    ) -> pulumiservice.DeploymentSettings:
        given = dict(extra.get(_short(target), {}))
        context = dict(given.pop("operation_context", None) or {})
        context["oidc"] = _oidc(app.client_id, tenant, subscription)
        return pulumiservice.DeploymentSettings(
            f"{prefix}-settings-{_short(target)}",
            organization=target.org,
            project=target.project,
            stack=target.stack,
            operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(**context),
            opts=opts,
            **given,
        )

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


def _oidc(
    client_id: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    subscription_id: pulumi.Output[Optional[str]],
) -> pulumiservice.OperationContextOIDCArgs:
    # Callers resolve the subscription first: the provider requires one.
    return pulumiservice.OperationContextOIDCArgs(
        azure=pulumiservice.AzureOIDCConfigurationArgs(
            client_id=client_id,
            tenant_id=tenant_id,
            subscription_id=subscription_id.apply(lambda s: s or ""),
        )
    )


def _refuse_pinned(planned: Mapping[str, Any]) -> None:
    """Refuse holders the config pins to an existing app or identity: the component
    would otherwise create a new one in their place, and Azure refuses a second
    credential for a subject the existing holder already trusts."""
    for app in planned["apps"]:
        existing = app.get("pinned_client_id") or (app.get("identity") or {}).get("existing")
        if existing:
            raise ValueError(
                f"{app['unique_name']} is pinned by `holder` to an existing "
                f"{'app' if app.get('pinned_client_id') else 'managed identity'} ({existing}), which this "
                f"component does not manage; set it up with `pulumi-azure-oidc apply` (or "
                f"pulumi_azure_oidc.apply), or drop `holder` so the component makes its own"
            )


def _check_settings(
    given: Optional[Mapping[str, Mapping[str, Any]]], stacks: AbstractSet[str], pulumi_cloud: bool
) -> Mapping[str, Mapping[str, Any]]:
    """Refuse `deployment_settings` the component would silently ignore or overwrite."""
    if not given:
        return {}
    if not pulumi_cloud:
        raise TypeError("`deployment_settings` needs pulumi_cloud=True: the component makes no settings without it")
    for stack, args in given.items():
        if stack not in stacks:
            raise ValueError(
                f"deployment_settings names {stack!r}, not a Deployments stack of this set-up "
                f"(stacks, as project/stack: {sorted(stacks)})"
            )
        unknown = set(args) - _SETTINGS_ARGS
        if unknown:
            raise TypeError(
                f"deployment_settings[{stack!r}]: {sorted(unknown)} cannot be given "
                f"(allowed: {sorted(_SETTINGS_ARGS)}; organization, project and stack come from the plan)"
            )
        context = args.get("operation_context")
        if context is not None and not isinstance(context, Mapping):
            raise TypeError(
                f"deployment_settings[{stack!r}]['operation_context'] must be a mapping of "
                f"DeploymentSettingsOperationContextArgs arguments, so the component can add `oidc`"
            )
        if context is not None and "oidc" in context:
            raise TypeError(
                f"deployment_settings[{stack!r}]['operation_context'] has `oidc`: the component sets it "
                f"(Azure, with the stack's client id)"
            )
    return given
