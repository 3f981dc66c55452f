//! Where Azure and Pulumi Cloud are: the built-in clouds (DESIGN §6) and overrides.

use serde::Serialize;

/// A national cloud with its own login, Graph and ARM hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Public,
    China,
    UsGov,
}

impl Cloud {
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "public" | "azurecloud" => Some(Self::Public),
            "china" | "azurechinacloud" => Some(Self::China),
            "usgov" | "azureusgovernment" => Some(Self::UsGov),
            _ => None,
        }
    }
}

/// Every URL the executor uses. Scopes name the cloud's resources and stay the same
/// when a URL is overridden (to reach the emulator, say), as tokens are minted for the
/// resource, not the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    /// Entra authority host, such as `https://login.microsoftonline.com`.
    pub login: String,
    /// Graph root without the version, such as `https://graph.microsoft.com`.
    pub graph: String,
    pub arm: String,
    pub graph_scope: String,
    pub arm_scope: String,
    /// The Pulumi Cloud API, such as `https://api.pulumi.com`.
    pub pulumi_api: String,
}

impl Endpoints {
    pub fn for_cloud(cloud: Cloud) -> Self {
        let (login, graph, arm) = match cloud {
            Cloud::Public => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "https://management.azure.com",
            ),
            Cloud::China => (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://management.chinacloudapi.cn",
            ),
            Cloud::UsGov => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://management.usgovcloudapi.net",
            ),
        };
        Self {
            login: login.into(),
            graph: graph.into(),
            arm: arm.into(),
            graph_scope: format!("{graph}/.default"),
            arm_scope: format!("{arm}/.default"),
            pulumi_api: "https://api.pulumi.com".into(),
        }
    }

    /// Point every Azure and Pulumi URL at one server (the emulator).
    pub fn all_at(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        self.login = base.clone();
        self.graph = base.clone();
        self.arm = base.clone();
        self.pulumi_api = base;
        self
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::for_cloud(Cloud::Public)
    }
}
