//! Revoke advice: what the reader of a finding should do, per kind of secret, in general
//! (SARIF rule help, the one-line hint; docs/formats.md names the service behind each key
//! kind). The plan for one particular secret, with its organisations, owner and commits, is
//! `plan`. No text here holds a placeholder link.

use crate::rules::Provider;

/// Advice for one kind of finding, in the forms reporters need.
#[derive(Debug, Clone)]
pub struct Advice {
    /// One line for terminals.
    pub hint: String,
    /// Plain-text steps.
    pub text: String,
    /// Markdown steps with links.
    pub markdown: String,
}

const PAT_DOCS: &str = "https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate";
pub const ADMIN_DOCS: &str =
    "https://learn.microsoft.com/azure/devops/organizations/accounts/admin-revoke-user-pats";
const POLICY_DOCS: &str = "https://learn.microsoft.com/azure/devops/organizations/accounts/manage-pats-with-policies-for-administrators";

/// CWE-798, Use of Hard-coded Credentials: the background for every kind of finding.
const CWE_798: &str = "https://cwe.mitre.org/data/definitions/798.html";

/// A page that explains the kind of secret `provider`'s rules find and how to deal with one
/// (SARIF's rule `helpUri`).
pub fn help_uri(provider: Provider) -> &'static str {
    match provider {
        Provider::AzureDevops => PAT_DOCS,
        _ => CWE_798,
    }
}

/// The profile page that lists the organisations of the signed-in user.
pub const PROFILE_PAGE: &str = "https://aex.dev.azure.com/me";

/// The page where a PAT's owner revokes it in organisation `org`.
pub fn token_page(org: &str) -> String {
    format!("https://dev.azure.com/{org}/_usersSettings/tokens")
}

/// Where the owner revokes the token: the organisation's page, or with none known, how to
/// find the organisations (never a placeholder link).
fn revoke_where(org: Option<&str>) -> (String, String) {
    match org {
        Some(o) => {
            let page = token_page(o);
            (page.clone(), format!("[{page}]({page})"))
        }
        None => (
            format!(
                "User settings > Personal access tokens, in each organisation listed at {PROFILE_PAGE}"
            ),
            format!(
                "User settings > Personal access tokens, in each organisation listed at [{PROFILE_PAGE}]({PROFILE_PAGE})"
            ),
        ),
    }
}

/// Advice for a finding of `provider` (rule data), with the organisation filled in if known.
// Long: most of it is the advice text itself, in plain and Markdown form side by side.
pub fn advice(provider: Provider, org: Option<&str>) -> Advice {
    match provider {
        Provider::AzureDevops => {
            let (page, page_md) = revoke_where(org);
            Advice {
                hint: format!("revoke it now at {page}, then replace it and purge it from git history"),
                text: format!(
                    "1. Revoke the token now: its owner at {page}; an organisation administrator can revoke users' PATs ({ADMIN_DOCS}). There is no revoke-by-value: the PAT Lifecycle API needs the token's authorization id and a Microsoft Entra token. With --verify, a live token's finding names every organisation it reaches and the Token Administration API calls for its owner.\n\
                     2. Replace it with a narrowly scoped, short-lived PAT, or better a Microsoft Entra token, a managed identity or the pipeline's System.AccessToken.\n\
                     3. Remove it from history (git filter-repo), not only from the latest commit: every clone still holds it.\n\
                     4. Check the organisation's audit log for use of the token between the leak and the revocation.\n\
                     Docs: {PAT_DOCS} and {POLICY_DOCS}"
                ),
                markdown: format!(
                    "1. **Revoke the token now**: its owner at {page_md}; an organisation administrator can [revoke users' PATs]({ADMIN_DOCS}). There is no revoke-by-value: the PAT Lifecycle API needs the token's authorization id and a Microsoft Entra token. With `--verify`, a live token's finding names every organisation it reaches and the Token Administration API calls for its owner.\n\
                     2. **Replace it** with a narrowly scoped, short-lived PAT, or better a Microsoft Entra token, a managed identity or the pipeline's `System.AccessToken`.\n\
                     3. **Remove it from history** (`git filter-repo`), not only from the latest commit: every clone still holds it.\n\
                     4. **Check the audit log** of the organisation for use of the token between the leak and the revocation.\n\n\
                     Docs: [Use personal access tokens]({PAT_DOCS}), [Manage PATs with policies]({POLICY_DOCS})"
                ),
            }
        }
        Provider::Github => Advice {
            hint: "revoke this GitHub token now (Settings → Developer settings, or the app's credentials), then purge it from git history".to_string(),
            text: "1. Revoke the token now: a personal access token under GitHub Settings → Developer settings → Personal access tokens; an OAuth or GitHub App token by revoking the app's authorization or its installation token. GitHub's credential revocation API also accepts the token itself.\n\
                   2. Replace it with a fine-grained, short-lived token or the workflow's GITHUB_TOKEN; keep it in a secret store.\n\
                   3. Remove it from history (git filter-repo), not only from the latest commit.\n\
                   4. Check the account's or organisation's security log for use between the leak and the revocation.".to_string(),
            markdown: "1. **Revoke the token now**: a personal access token under *Settings → Developer settings → Personal access tokens*; an OAuth or GitHub App token by revoking the authorization or installation. GitHub's credential revocation API also accepts the token itself.\n\
                       2. **Replace it** with a fine-grained, short-lived token or the workflow's `GITHUB_TOKEN`; keep it in a secret store.\n\
                       3. **Remove it from history** (`git filter-repo`), not only from the latest commit.\n\
                       4. **Check the security log** for use between the leak and the revocation.".to_string(),
        },
        Provider::Npm => Advice {
            hint: "revoke this npm token now (`npm token revoke` or npmjs.com → Access Tokens), then purge it from git history".to_string(),
            text: "1. Revoke the token now: `npm token revoke <id>` or on npmjs.com under Access Tokens.\n\
                   2. Replace it with a granular, expiring token (or trusted publishing from CI); keep it in a secret store.\n\
                   3. Remove it from history (git filter-repo), not only from the latest commit.\n\
                   4. Check the packages it could publish for versions released between the leak and the revocation.".to_string(),
            markdown: "1. **Revoke the token now**: `npm token revoke <id>` or on npmjs.com under *Access Tokens*.\n\
                       2. **Replace it** with a granular, expiring token (or trusted publishing from CI); keep it in a secret store.\n\
                       3. **Remove it from history** (`git filter-repo`), not only from the latest commit.\n\
                       4. **Check the packages** it could publish for versions released since the leak.".to_string(),
        },
        p if p.is_azure_service() => {
            let how = azure_rotation(p);
            Advice {
                hint: format!("{how}, then purge it from git history"),
                text: format!(
                    "1. {how} now; the leaked value stops working once regenerated.\n\
                     2. Prefer Microsoft Entra ID authentication or a managed identity over keys; keep any key in a secret store (Key Vault, pipeline secrets).\n\
                     3. Remove it from history (git filter-repo), not only from the latest commit.\n\
                     4. Check the resource's activity and diagnostic logs for use between the leak and the rotation."
                ),
                markdown: format!(
                    "1. **{how}** now; the leaked value stops working once regenerated.\n\
                     2. **Prefer Microsoft Entra ID** or a managed identity over keys; keep any key in Key Vault or pipeline secrets.\n\
                     3. **Remove it from history** (`git filter-repo`), not only from the latest commit.\n\
                     4. **Check the resource's logs** for use between the leak and the rotation."
                ),
            }
        }
        Provider::Azure => Advice {
            hint: "rotate (regenerate) this key in the Azure portal, then purge it from git history".to_string(),
            text: "1. Regenerate the key now in the Azure portal (or with the Azure CLI) for the resource it belongs to; the leaked value stops working once regenerated.\n\
                   2. Prefer Microsoft Entra ID authentication or a managed identity over keys; keep any key in a secret store (Key Vault, pipeline secrets).\n\
                   3. Remove it from history (git filter-repo), not only from the latest commit.\n\
                   4. Check the resource's activity and diagnostic logs for use between the leak and the rotation.".to_string(),
            markdown: "1. **Regenerate the key now** in the Azure portal (or with the Azure CLI) for the resource it belongs to.\n\
                       2. **Prefer Microsoft Entra ID** or a managed identity over keys; keep any key in Key Vault or pipeline secrets.\n\
                       3. **Remove it from history** (`git filter-repo`), not only from the latest commit.\n\
                       4. **Check the resource's logs** for use between the leak and the rotation.".to_string(),
        },
        _ => Advice {
            hint: "change this password at the service it belongs to, then move it to a secret store".to_string(),
            text: "1. Change the password (or revoke the token) at the service the URL or header is for: anyone who read this file can log in.\n\
                   2. Load credentials at run time from a secret store or environment variable (pipeline secrets, Key Vault, a credential helper), never from source.\n\
                   3. Remove it from history (git filter-repo), not only from the latest commit.\n\
                   4. Check the service's access logs for logins between the leak and the change.".to_string(),
            markdown: "1. **Change the password** (or revoke the token) at the service it is for: anyone who read this file can log in.\n\
                       2. **Load credentials at run time** from a secret store or environment variable (pipeline secrets, Key Vault, a credential helper), never from source.\n\
                       3. **Remove it from history** (`git filter-repo`), not only from the latest commit.\n\
                       4. **Check the service's access logs** for logins between the leak and the change.".to_string(),
        },
    }
}

/// Where a key of an Azure service is regenerated, by the provider name its rules give.
fn azure_rotation(provider: Provider) -> &'static str {
    match provider {
        Provider::AzureStorage => {
            "Rotate the storage account key (portal: Access keys → Rotate key; CLI: az storage account keys renew)"
        }
        Provider::AzureCosmosDb => {
            "Regenerate the Azure Cosmos DB key (portal: Keys → Regenerate; CLI: az cosmosdb keys regenerate)"
        }
        Provider::AzureBatch => {
            "Regenerate the Batch account key (portal: Keys; CLI: az batch account keys renew)"
        }
        Provider::AzureMlClassic => {
            "Regenerate the Machine Learning (classic) web service key in its web service settings"
        }
        Provider::AzureApiManagement => {
            "Regenerate the API Management key (portal: Subscriptions, Gateways or Management API → Regenerate)"
        }
        Provider::AzureServiceBus => {
            "Regenerate the Service Bus shared access key (portal: Shared access policies; CLI: az servicebus namespace authorization-rule keys renew)"
        }
        Provider::AzureEventHubs => {
            "Regenerate the Event Hubs shared access key (portal: Shared access policies; CLI: az eventhubs namespace authorization-rule keys renew)"
        }
        Provider::AzureRelay => {
            "Regenerate the Relay shared access key (portal: Shared access policies; CLI: az relay namespace authorization-rule keys renew)"
        }
        Provider::AzureIot => {
            "Regenerate the IoT Hub / Device Provisioning shared access key or device key (portal: Shared access policies or the device's keys)"
        }
        Provider::AzureEventGrid => {
            "Regenerate the Event Grid access key (portal: Access keys; CLI: az eventgrid topic key regenerate)"
        }
        Provider::AzureCacheRedis => {
            "Regenerate the Azure Cache for Redis access key (portal: Authentication → Access keys; CLI: az redis regenerate-keys)"
        }
        Provider::AzureFunctions => {
            "Renew the Azure Functions key (portal: App keys or Function keys → Renew key value)"
        }
        Provider::AzureSearch => {
            "Regenerate the Azure AI Search admin key or delete the query key (portal: Keys; CLI: az search admin-key renew / query-key delete)"
        }
        Provider::AzureContainerRegistry => {
            "Regenerate the container registry access key or token password (portal: Access keys; CLI: az acr credential renew)"
        }
        Provider::AzureAppConfiguration => {
            "Regenerate the App Configuration access key (portal: Access settings; CLI: az appconfig credential regenerate)"
        }
        Provider::AzureFluidRelay => {
            "Regenerate the Fluid Relay key (portal: Access Key; CLI: az fluid-relay server regenerate-key)"
        }
        Provider::AzureMixedReality => {
            "Regenerate the Mixed Reality account key (portal: Access keys; CLI: az spatial-anchors-account key renew)"
        }
        Provider::AzureMaps => {
            "Regenerate the Azure Maps shared key (portal: Authentication; CLI: az maps account keys renew)"
        }
        Provider::AzureCommunicationServices => {
            "Regenerate the Communication Services access key (portal: Keys; CLI: az communication regenerate-key)"
        }
        Provider::AzureCognitiveServices => {
            "Regenerate the Azure AI services key (portal: Keys and Endpoint; CLI: az cognitiveservices account keys regenerate)"
        }
        Provider::AzureSql => {
            "Rotate the Azure SQL credential the key belongs to and regenerate the key"
        }
        _ => {
            "Regenerate the key in the Azure portal (or with the Azure CLI) for the resource it belongs to"
        }
    }
}
