// The "Try an example" buttons. The examples are the bundled ones (examples/ in the
// repository): an unsigned example token, a credential list set up by hand with a wrong
// audience, and an error body.

import { byId } from "./dom.js";
import { kit } from "./kit.js";
import { schedule } from "./schedule.js";
import { setOperations } from "./deployments.js";
import { setAttributes } from "./esc.js";

const EXAMPLE_TOKEN =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUifQ.eyJpc3MiOiJodHRwczovL2FwaS5wdWx1bWkuY29tL29pZGMiLCJzdWIiOiJwdWx1bWk6ZGVwbG95Om9yZzpjb250b3NvOnByb2plY3Q6Y29yZTpzdGFjazpkZXY6b3BlcmF0aW9uOnVwZGF0ZTpzY29wZTp3cml0ZSIsImF1ZCI6ImNvbnRvc28iLCJpYXQiOjE3NjcyMjU2MDAsIm5iZiI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJvcmciOiJjb250b3NvIiwicHJvamVjdCI6ImNvcmUiLCJzdGFjayI6ImRldiIsIm9wZXJhdGlvbiI6InVwZGF0ZSIsInNjb3BlIjoid3JpdGUifQ.ZXhhbXBsZS1zaWduYXR1cmU";
const EXAMPLE_CREDENTIALS = JSON.stringify(
  {
    value: [
      {
        name: "core-dev-preview",
        issuer: "https://api.pulumi.com/oidc",
        subject: "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write",
        audiences: ["contoso"],
        description: "added by hand",
      },
      {
        name: "core-dev-update",
        issuer: "https://api.pulumi.com/oidc",
        subject: "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
        audiences: ["azure:contoso"],
        description: "added by hand",
      },
    ],
  },
  null,
  2,
);
const EXAMPLE_ERROR =
  "AADSTS700213: No matching federated identity record found for presented assertion subject 'pulumi:environments:org:pulumi:env:<yaml>'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation Trace ID: 20f6c59a-9821-47da-afb7-aafa724e6b01 Correlation ID: 1b19f0d7-cba3-4b0a-ae44-7489adf2454b Timestamp: 2023-11-07 09:11:45Z";

export function fillDeploymentsExample() {
  for (const id of ["d-issuer", "d-role", "d-scope", "d-tenant", "d-subscription"]) byId(id).value = "";
  byId("d-org").value = "contoso";
  byId("d-project").value = "core";
  byId("d-stacks").value = "dev";
  setOperations(kit.operations);
  schedule("d", 0);
  byId("d-org").focus();
}

export function fillEscExample() {
  for (const id of ["e-user", "e-root", "e-issuer", "e-client", "e-tenant", "e-subscription"]) byId(id).value = "";
  byId("e-org").value = "contoso";
  byId("e-project").value = "azure";
  byId("e-env").value = "prod";
  byId("e-form-attributes").checked = true;
  byId("e-yaml").checked = false;
  setAttributes(kit.recommendedAttributes);
  schedule("e", 0);
  byId("e-org").focus();
}

export function fillDiagnoseExample() {
  byId("x-token").value = EXAMPLE_TOKEN;
  byId("x-credentials").value = EXAMPLE_CREDENTIALS;
  byId("x-at").value = "";
  byId("x-aadsts").value = EXAMPLE_ERROR;
  schedule("xt", 0);
  schedule("xa", 0);
  byId("x-token").focus();
}
