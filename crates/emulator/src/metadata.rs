//! ARM's cloud metadata document, `GET /metadata/endpoints?api-version=2022-09-01`,
//! which `az cloud register --endpoint-resource-manager URL` reads to learn every other
//! endpoint of a cloud. Unauthenticated, as ARM serves it.
//!
//! Source: the AzureCloud answer for api-version 2022-09-01 as captured in
//! hashicorp/go-azure-sdk `sdk/internal/metadata/client_test.go` (`metadata20220901`):
//! one JSON object (2019-05-01 answered a list of clouds), `loginEndpoint` without a
//! trailing slash, `resourceManager` and `microsoftGraphResourceId` with one. The fields
//! Azure CLI reads are those of `_arm_to_cli_mapper` in Azure/azure-cli
//! `src/azure-cli-core/azure/cli/core/cloud.py`.
//!
//! This cloud's own values: ARM, the token endpoint and Graph are all served at the
//! listener's base URL, and the base URL is also Graph's resource id, because clients
//! use `microsoftGraphResourceId` both as Graph's base URL and as its token scope
//! (`<id>/.default`); the token endpoint therefore issues Graph tokens for it
//! (`Shared::resource_of_scope`). ARM's audiences stay Azure's, so ARM tokens are asked
//! for `https://management.core.windows.net/.default` as in the public cloud. Suffixes
//! and the resource ids of services the emulator does not serve keep Azure's values.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{Req, plain_json};

/// The name the document gives this cloud (Azure CLI renames it to the registered name).
const CLOUD_NAME: &str = "PulumiAzureOidcEmulator";

pub(crate) fn handle(base: &str, req: &Req) -> Response {
    let path: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    if path != ["metadata", "endpoints"] {
        return plain_json(StatusCode::NOT_FOUND, &json!({"error": "not found"}));
    }
    plain_json(StatusCode::OK, &document(base))
}

fn document(base: &str) -> Value {
    json!({
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{base}/"),
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": format!("{base}/"),
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    })
}
