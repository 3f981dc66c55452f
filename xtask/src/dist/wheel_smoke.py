"""The wheel as a user installed it: the module's documented calls on the examples.

Run by `cargo xtask test-dist` with the fresh venv's interpreter, from a folder that
holds copies of the repository's examples and nothing else.
"""

import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pulumi_azure_oidc as oidc

here = Path(sys.argv[1])
version = sys.argv[2]

assert shutil.which("cargo") is None and shutil.which("rustc") is None, "Rust is on PATH"
assert oidc.__version__ == version, (oidc.__version__, version)
assert "site-packages" in oidc.__file__, oidc.__file__

subjects = [c.subject for c in oidc.deployment_credentials("contoso", "core", "dev")]
assert "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write" in subjects, subjects
[esc] = oidc.esc_credentials("contoso", "azure", "prod")
assert esc.audience == "azure:contoso", esc.audience

plan = oidc.plan(str(here / "pulumi-azure-oidc.yaml"))
assert plan.apps, "the example config planned no holder"
assert "az ad app" in plan.render("az")
assert "azure-login" in oidc.render(str(here / "pulumi-azure-oidc.yaml"), "esc")

token = (here / "token-update.jwt").read_text().strip()
credentials = (here / "credentials.json").read_text()
d = oidc.diagnose_token(token, credentials, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
assert not d.accepted and d.fix, d.verdict
e = oidc.diagnose_error((here / "aadsts700213.txt").read_text())
assert "700213" in e.aadsts and e.fix, e.cause
print("smoke: ok", oidc.__version__)
