//! Where verification requests go: the two fixed Azure DevOps endpoints, the organisation-name
//! check that guards the only scanned-content value entering a URL, and the loopback-only test
//! override `PATROL_ADO_BASE_URL`. Not for sending anything: see `client`.

use regex::Regex;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// Environment variable that replaces both Azure DevOps base URLs, for tests only.
pub const BASE_URL_ENV: &str = "PATROL_ADO_BASE_URL";

const ORG_BASE: &str = "https://dev.azure.com";
const PROFILE_BASE: &str = "https://app.vssps.visualstudio.com";
const VSSPS_BASE: &str = "https://vssps.dev.azure.com";
const FEEDS_BASE: &str = "https://feeds.dev.azure.com";
const CONNECTION_DATA_PATH: &str = "_apis/connectionData";
const PROFILE_PATH: &str = "_apis/profile/profiles/me?api-version=7.1";

/// An organisation name (README, "Live verification") must match this before it enters a URL.
static ORG_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9][A-Za-z0-9-]{0,48}[A-Za-z0-9]?$").expect("organisation pattern")
});

/// Whether `org` is safe to put into a URL path (letters, digits, hyphens, ≤ 50 characters).
pub fn valid_org(org: &str) -> bool {
    ORG_NAME.is_match(org)
}

/// Whether an id from an answer (identity, project) is a GUID, safe in a path or query.
pub fn valid_id(id: &str) -> bool {
    static GUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$").expect("GUID")
    });
    GUID.is_match(id)
}

/// Whether a subject descriptor from an answer (`aad.…`) is safe to print in a URL path.
pub fn valid_descriptor(d: &str) -> bool {
    static DESCRIPTOR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z]{2,8}\.[A-Za-z0-9_=-]{1,400}$").expect("descriptor")
    });
    DESCRIPTOR.is_match(d)
}

/// The read-only probes of a live token's reach, each a GET of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Projects,
    GitRepositories,
    /// Needs a project.
    Builds,
    PackagingFeeds,
    /// Needs a project.
    VariableGroups,
}

/// Which Azure DevOps API a token is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// `GET {org base}/{org}/_apis/connectionData`: a 401 there means the token is invalid.
    ConnectionData { org: &'a str },
    /// `GET {profile base}/_apis/profile/profiles/me`: works only for tokens valid in all
    /// organisations, so a 401 there proves nothing.
    Profile,
}

/// The base URLs requests go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    org_base: String,
    profile_base: String,
    vssps_base: String,
    feeds_base: String,
    /// `Some(base)` when the test override is in use.
    overridden: Option<String>,
}

/// A `PATROL_ADO_BASE_URL` value that is not an `http(s)://` URL on a loopback address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{BASE_URL_ENV}={value:?} refused: {why}. The override is for tests only and accepts \
     only http(s)://127.x.x.x, http(s)://[::1] or http(s)://localhost with an optional port; \
     unset it to verify against Azure DevOps"
)]
pub struct OverrideRefused {
    pub value: String,
    pub why: &'static str,
}

impl Endpoints {
    /// The real Azure DevOps endpoints (HTTPS).
    pub fn azure_devops() -> Self {
        Endpoints {
            org_base: ORG_BASE.to_string(),
            profile_base: PROFILE_BASE.to_string(),
            vssps_base: VSSPS_BASE.to_string(),
            feeds_base: FEEDS_BASE.to_string(),
            overridden: None,
        }
    }

    /// The real endpoints, or the override when `value` (of [`BASE_URL_ENV`]) is set.
    pub fn from_override(value: Option<&str>) -> Result<Self, OverrideRefused> {
        let Some(value) = value else {
            return Ok(Self::azure_devops());
        };
        let base = loopback_base(value)?;
        Ok(Endpoints {
            org_base: base.clone(),
            profile_base: base.clone(),
            vssps_base: base.clone(),
            feeds_base: base.clone(),
            overridden: Some(base),
        })
    }

    /// The override's base URL, when one is in use.
    pub fn overridden(&self) -> Option<&str> {
        self.overridden.as_deref()
    }

    /// The URL for `endpoint`. The organisation must already have passed [`valid_org`].
    pub fn url(&self, endpoint: Endpoint) -> String {
        match endpoint {
            Endpoint::ConnectionData { org } => {
                debug_assert!(valid_org(org));
                format!("{}/{org}/{CONNECTION_DATA_PATH}", self.org_base)
            }
            Endpoint::Profile => format!("{}/{PROFILE_PATH}", self.profile_base),
        }
    }

    /// The organisations a member belongs to (Accounts API). `member` must pass [`valid_id`].
    pub fn accounts(&self, member: &str) -> String {
        debug_assert!(valid_id(member));
        format!(
            "{}/_apis/accounts?memberId={member}&api-version=7.1",
            self.profile_base
        )
    }

    /// The subject descriptor of an identity in an organisation (Graph API).
    pub fn descriptor(&self, org: &str, id: &str) -> String {
        debug_assert!(valid_org(org) && valid_id(id));
        format!(
            "{}/{org}/_apis/graph/descriptors/{id}?api-version=7.1-preview.1",
            self.vssps_base
        )
    }

    /// The URL of a probe in `org`; `None` for a project-level probe without a project.
    pub fn probe(&self, probe: Probe, org: &str, project: Option<&str>) -> Option<String> {
        debug_assert!(valid_org(org) && project.is_none_or(valid_id));
        let b = &self.org_base;
        Some(match probe {
            Probe::Projects => format!("{b}/{org}/_apis/projects?$top=1&api-version=7.1"),
            Probe::GitRepositories => format!("{b}/{org}/_apis/git/repositories?api-version=7.1"),
            Probe::Builds => format!(
                "{b}/{org}/{}/_apis/build/builds?$top=1&api-version=7.1",
                project?
            ),
            Probe::PackagingFeeds => format!(
                "{}/{org}/_apis/packaging/feeds?api-version=7.1",
                self.feeds_base
            ),
            Probe::VariableGroups => format!(
                "{b}/{org}/{}/_apis/distributedtask/variablegroups?$top=1&api-version=7.1",
                project?
            ),
        })
    }
}

/// Accept `http(s)://HOST[:PORT][/]` where HOST is loopback; return it without the slash.
fn loopback_base(value: &str) -> Result<String, OverrideRefused> {
    let refuse = |why| OverrideRefused {
        value: value.to_string(),
        why,
    };
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or_else(|| refuse("it does not start with http:// or https://"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@', '\\']) || authority.is_empty() {
        return Err(refuse(
            "it must be scheme://host[:port] with no user, path or query",
        ));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| refuse("an IPv6 address lacks its closing ']'"))?;
            match after {
                "" => (h, None),
                _ => (
                    h,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| refuse("unexpected text after the host"))?,
                    ),
                ),
            }
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err(refuse("the port is not a number from 0 to 65535"));
    }
    if !is_loopback_host(host) {
        return Err(refuse("its host is not a loopback address"));
    }
    let scheme = &value[..value.len() - rest.len()];
    Ok(format!("{scheme}{authority}"))
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return IpAddr::V6(v6).is_loopback();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_names() {
        for ok in ["contoso", "a", "A1", "my-org", "x-", &"a".repeat(50)] {
            assert!(valid_org(ok), "{ok}");
        }
        let too_long = format!("{}-", "a".repeat(49));
        for bad in [
            "",
            "-org",
            "org/evil",
            "org.example",
            "evil.com#",
            "org?x=1",
            "o rg",
            "org\n",
            "ørg",
            "..",
            &"a".repeat(51),
            &too_long,
        ] {
            assert!(!valid_org(bad), "{bad:?}");
        }
    }

    #[test]
    fn real_urls_are_https_on_azure_devops() {
        let e = Endpoints::from_override(None).unwrap();
        assert_eq!(e.overridden(), None);
        assert_eq!(
            e.url(Endpoint::ConnectionData { org: "contoso" }),
            "https://dev.azure.com/contoso/_apis/connectionData"
        );
        assert_eq!(
            e.url(Endpoint::Profile),
            "https://app.vssps.visualstudio.com/_apis/profile/profiles/me?api-version=7.1"
        );
    }

    #[test]
    fn loopback_overrides_are_accepted() {
        for (v, base) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.1.2.3:1/", "http://127.1.2.3:1"),
            ("http://localhost:9", "http://localhost:9"),
            ("https://[::1]:443", "https://[::1]:443"),
            ("http://127.0.0.1", "http://127.0.0.1"),
        ] {
            let e = Endpoints::from_override(Some(v)).unwrap();
            assert_eq!(e.overridden(), Some(base));
            assert_eq!(
                e.url(Endpoint::ConnectionData { org: "o" }),
                format!("{base}/o/_apis/connectionData")
            );
            assert_eq!(
                e.url(Endpoint::Profile),
                format!("{base}/_apis/profile/profiles/me?api-version=7.1")
            );
        }
    }

    #[test]
    fn other_overrides_are_refused() {
        for v in [
            "http://10.1.2.3:80",
            "http://dev.azure.com",
            "https://example.com:443",
            "http://127.0.0.1.evil.example:80",
            "http://127.0.0.1@evil.example",
            "http://evil.example#@127.0.0.1",
            "http://127.0.0.1:80/path",
            "http://127.0.0.1:99999",
            "http://[::2]:80",
            "http://[::ffff:10.0.0.1]:80",
            "ftp://127.0.0.1",
            "127.0.0.1:80",
            "http://",
            "http://0.0.0.0:80",
        ] {
            let err = Endpoints::from_override(Some(v)).unwrap_err();
            assert!(err.to_string().contains("refused"), "{v}: {err}");
        }
    }
}
