//! Revoke advice: what the reader of a finding should do, per kind of secret (DESIGN.md §3).

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
const ADMIN_DOCS: &str =
    "https://learn.microsoft.com/azure/devops/organizations/accounts/admin-revoke-user-pats";
const POLICY_DOCS: &str = "https://learn.microsoft.com/azure/devops/organizations/accounts/manage-pats-with-policies-for-administrators";

/// The page where a PAT's owner revokes it.
pub fn token_page(org: Option<&str>) -> String {
    match org {
        Some(o) => format!("https://dev.azure.com/{o}/_usersSettings/tokens"),
        None => "https://dev.azure.com/{organization}/_usersSettings/tokens".to_string(),
    }
}

/// Advice for a finding of `provider` (rule data), with the organisation filled in if known.
pub fn advice(provider: &str, org: Option<&str>) -> Advice {
    match provider {
        "azure-devops" => {
            let page = token_page(org);
            Advice {
                hint: format!("revoke it now at {page}, then replace it and purge it from git history"),
                text: format!(
                    "1. Revoke the token now: its owner at {page}; an organisation administrator can revoke users' PATs ({ADMIN_DOCS}). There is no revoke-by-value: the PAT Lifecycle API needs the token's authorization id and a Microsoft Entra token.\n\
                     2. Replace it with a narrowly scoped, short-lived PAT, or better a Microsoft Entra token, a managed identity or the pipeline's System.AccessToken.\n\
                     3. Remove it from history (git filter-repo), not only from the latest commit: every clone still holds it.\n\
                     4. Check the organisation's audit log for use of the token between the leak and the revocation.\n\
                     Docs: {PAT_DOCS} and {POLICY_DOCS}"
                ),
                markdown: format!(
                    "1. **Revoke the token now**: its owner at [{page}]({page}); an organisation administrator can [revoke users' PATs]({ADMIN_DOCS}). There is no revoke-by-value: the PAT Lifecycle API needs the token's authorization id and a Microsoft Entra token.\n\
                     2. **Replace it** with a narrowly scoped, short-lived PAT, or better a Microsoft Entra token, a managed identity or the pipeline's `System.AccessToken`.\n\
                     3. **Remove it from history** (`git filter-repo`), not only from the latest commit: every clone still holds it.\n\
                     4. **Check the audit log** of the organisation for use of the token between the leak and the revocation.\n\n\
                     Docs: [Use personal access tokens]({PAT_DOCS}), [Manage PATs with policies]({POLICY_DOCS})"
                ),
            }
        }
        "azure" => Advice {
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
