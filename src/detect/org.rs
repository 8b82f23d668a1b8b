//! Which Azure DevOps organisation a secret belongs to, from the text around it: a URL on the
//! token's own line, a key naming the organisation (`AZURE_DEVOPS_ORG=…`, `"organization": …`,
//! `System.CollectionUri: https://dev.azure.com/…`), or a URL on another line; and from a git
//! remote URL. Names only: whether a name is safe to put into a request is `verify`'s check.

use crate::finding::OrgSource;
use regex::bytes::Regex;

/// How far around a secret we look for the organisation.
const ORG_CONTEXT: usize = 2048;

/// An organisation name as Azure DevOps allows it.
const NAME: &str = r"[A-Za-z0-9][A-Za-z0-9-]{0,48}[A-Za-z0-9]?";

/// Keys whose value is an organisation name (compared ASCII-case-insensitively).
const NAME_KEYS: &str = r"organization|organisation|org|org_name|orgname|organization_name|azure_devops_org|azure_devops_organization|azure_devops_org_name|ado_org|ado_organization|azdo_org|azdo_organization|devops_org|vsts_account|vsts_org";
/// Keys whose value is the organisation's URL.
const URL_KEYS: &str = r"azure_devops_ext_org_url|azure_devops_org_url|azure_devops_organization_url|azdo_org_service_url|org_service_url|organization_url|org_url|orgurl|collectionuri|collection_uri|system\.collectionuri|system_collectionuri|system\.teamfoundationcollectionuri|system_teamfoundationcollectionuri|tfs_url";

/// Names that a key or a host prefix can hold without being an organisation.
fn is_stop_word(name: &str) -> bool {
    [
        "app", "www", "true", "false", "null", "none", "yes", "no", "your-org", "myorg",
    ]
    .iter()
    .any(|w| name.eq_ignore_ascii_case(w))
}

/// Finds organisation names near secrets.
pub struct OrgFinder {
    /// Group 1: `dev.azure.com/NAME`; group 2: `NAME.visualstudio.com`.
    url: Regex,
    /// Group 1: a name key's value; groups 2 and 3: a URL key's `dev.azure.com/NAME` or
    /// `NAME.visualstudio.com`.
    key: Regex,
}

impl Default for OrgFinder {
    fn default() -> Self {
        Self::new()
    }
}

impl OrgFinder {
    pub fn new() -> Self {
        let url_body = format!(
            r"(?:dev\.azure\.com/({NAME})(?:[^A-Za-z0-9-]|$)|(?:^|[^A-Za-z0-9.-])({NAME})(?:\.(?:pkgs|vsrm|feeds|vssps|vsblob))?\.visualstudio\.com)"
        );
        let url = Regex::new(&format!("(?i){url_body}")).expect("organisation URL pattern");
        let key = Regex::new(&format!(
            r#"(?i)(?:^|[^A-Za-z0-9_.])(?:(?:{NAME_KEYS})["']?\s*[:=]\s*["']?({NAME})(?:["'\s,;}}]|$)|(?:{URL_KEYS})["']?\s*[:=]\s*["']?https?://(?:dev\.azure\.com/({NAME})(?:[^A-Za-z0-9-]|$)|({NAME})\.visualstudio\.com))"#
        ))
        .expect("organisation key pattern");
        OrgFinder { url, key }
    }

    /// The organisation named around `start..end`, within [`ORG_CONTEXT`] bytes of `hay`:
    /// a URL on the secret's own line first, then a key, then a URL on another line; the
    /// nearest of each kind.
    pub fn near(&self, hay: &[u8], start: usize, end: usize) -> Option<(String, OrgSource)> {
        let ws = floor_char(hay, start.saturating_sub(ORG_CONTEXT));
        let we = (end + ORG_CONTEXT).min(hay.len());
        let window = &hay[ws..we];
        let mut best: Option<((OrgSource, usize), String)> = None;
        let mut consider = |pos: usize, name: &[u8], key: bool| {
            let name = String::from_utf8_lossy(name).into_owned();
            if is_stop_word(&name) {
                return;
            }
            let pos = ws + pos;
            let (dist, between) = if pos >= end {
                (pos - end, &hay[end..pos])
            } else {
                (start.saturating_sub(pos), &hay[pos..start.max(pos)])
            };
            let source = match (key, between.contains(&b'\n')) {
                (false, false) => OrgSource::SameLine,
                (true, _) => OrgSource::Key,
                (false, true) => OrgSource::Url,
            };
            let rank = (source, dist);
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, name));
            }
        };
        for caps in self.url.captures_iter(window) {
            if let Some(g) = caps.get(1).or_else(|| caps.get(2)) {
                consider(g.start(), g.as_bytes(), false);
            }
        }
        for caps in self.key.captures_iter(window) {
            if let Some(g) = caps.get(1).or_else(|| caps.get(2)).or_else(|| caps.get(3)) {
                consider(g.start(), g.as_bytes(), true);
            }
        }
        best.map(|((source, _), n)| (n, source))
    }
}

/// Back up to a line start is not needed; only keep the window from starting inside a
/// multi-byte character, which would make a name's first letter look like a boundary.
fn floor_char(hay: &[u8], mut i: usize) -> usize {
    while i > 0 && i < hay.len() && (hay[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

/// The organisation of an Azure DevOps git remote URL: `https://[user@]dev.azure.com/ORG/…`,
/// `https://ORG.visualstudio.com/…`, `git@ssh.dev.azure.com:v3/ORG/…`,
/// `ORG@vs-ssh.visualstudio.com:v3/ORG/…`. `None` for any other remote.
pub fn org_of_remote(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => url,
    };
    let (authority, path) = match rest.find(['/', ':']) {
        Some(i) => (&rest[..i], rest[i + 1..].trim_start_matches('/')),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    let first = |p: &str| p.split('/').next().map(str::to_string);
    let name = match host {
        "dev.azure.com" => first(path),
        "ssh.dev.azure.com" | "vs-ssh.visualstudio.com" => path.strip_prefix("v3/").and_then(first),
        h => h.strip_suffix(".visualstudio.com").map(str::to_string),
    }?;
    let ok = regex::Regex::new(&format!("^{NAME}$")).expect("name pattern");
    (ok.is_match(&name) && !is_stop_word(&name)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(text: &str) -> Option<(String, OrgSource)> {
        let start = text.find("TOKEN").expect("marker");
        OrgFinder::new().near(text.as_bytes(), start, start + 5)
    }

    fn named(name: &str, source: OrgSource) -> Option<(String, OrgSource)> {
        Some((name.to_string(), source))
    }

    #[test]
    fn keys_name_the_organisation() {
        for text in [
            "{\n  \"organization\": \"contoso\",\n  \"pat\": \"TOKEN\"\n}",
            "org: contoso\npat: TOKEN\n",
            "AZURE_DEVOPS_ORG=contoso\nAZURE_DEVOPS_EXT_PAT=TOKEN\n",
            "export AZURE_DEVOPS_EXT_ORG_URL=https://dev.azure.com/contoso/\nX=TOKEN",
            "System.CollectionUri: https://contoso.visualstudio.com/\npat: TOKEN",
            "org_service_url = \"https://dev.azure.com/contoso\"\ntoken = \"TOKEN\"",
        ] {
            assert_eq!(near(text), named("contoso", OrgSource::Key), "{text}");
        }
    }

    #[test]
    fn urls_rank_by_line_and_distance() {
        assert_eq!(
            near("git clone https://x:TOKEN@dev.azure.com/contoso/app/_git/app"),
            named("contoso", OrgSource::SameLine)
        );
        assert_eq!(
            near("# https://dev.azure.com/fabrikam/x\n\nX=TOKEN\n"),
            named("fabrikam", OrgSource::Url)
        );
        // A key beats a URL on another line; a URL on the same line beats both.
        assert_eq!(
            near("# https://dev.azure.com/fabrikam/x\norg: contoso\nX=TOKEN\n"),
            named("contoso", OrgSource::Key)
        );
        assert_eq!(
            near("org: contoso\nX=TOKEN https://dev.azure.com/fabrikam\n"),
            named("fabrikam", OrgSource::SameLine)
        );
    }

    #[test]
    fn non_names_are_not_organisations() {
        for text in [
            "org: true\nX=TOKEN",
            "organization: https://example.com/x\nX=TOKEN",
            "myorg_id: 5\nX=TOKEN",
            "org.name: x\nX=TOKEN",
            "X=TOKEN",
        ] {
            assert_eq!(near(text), None, "{text}");
        }
    }

    #[test]
    fn remotes() {
        for (url, want) in [
            (
                "https://dev.azure.com/contoso/app/_git/app",
                Some("contoso"),
            ),
            (
                "https://contoso@dev.azure.com/contoso/app/_git/app",
                Some("contoso"),
            ),
            (
                "https://contoso.visualstudio.com/app/_git/app",
                Some("contoso"),
            ),
            (
                "https://contoso.visualstudio.com/DefaultCollection/app/_git/app",
                Some("contoso"),
            ),
            ("git@ssh.dev.azure.com:v3/contoso/app/app", Some("contoso")),
            (
                "ssh://git@ssh.dev.azure.com/v3/contoso/app/app",
                Some("contoso"),
            ),
            (
                "contoso@vs-ssh.visualstudio.com:v3/contoso/app/app",
                Some("contoso"),
            ),
            ("https://github.com/contoso/app.git", None),
            ("git@github.com:contoso/app.git", None),
            ("https://dev.azure.com/", None),
            ("https://dev.azure.com/bad.name/x", None),
            ("/srv/git/app.git", None),
        ] {
            assert_eq!(org_of_remote(url).as_deref(), want, "{url}");
        }
    }
}
