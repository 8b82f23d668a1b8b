//! Which organization `patrol ado` talks to, and with what: the organization URL parsed into
//! the API base and the one host the token may go to, the loopback test override, the check
//! that a clone URL from an API answer stays on that host, and the token read from the
//! environment. Not for sending anything: see `rest` and `mirror`.

use crate::verify::endpoint::{BASE_URL_ENV, Endpoints, OverrideRefused, valid_org};

/// Why an organization URL, a clone URL or the token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not an https:// organization URL (https://dev.azure.com/ORG)")]
    NotHttps(String),
    #[error("{0:?}: the organization URL must be https://host/ORG with no user or query")]
    UserOrQuery(String),
    #[error("{0:?} names no organization (https://dev.azure.com/ORG)")]
    NoOrganization(String),
    #[error("{0:?} is not an organization name (letters, digits, hyphens, at most 50)")]
    BadOrganization(String),
    #[error(transparent)]
    Override(#[from] OverrideRefused),
    #[error("its clone URL has no scheme")]
    CloneUrlNoScheme,
    #[error(
        "its clone URL is not on {0} (refused: the token goes only to the organization's host)"
    )]
    CloneUrlElsewhere(String),
    #[error("its clone URL has an unexpected query or path")]
    CloneUrlOdd,
    /// The names of the environment variables looked at, joined.
    #[error(
        "no token: set {0} to a personal access token (or System.AccessToken in a pipeline); \
         patrol never takes a token on the command line"
    )]
    NoToken(String),
}

type Result<T> = std::result::Result<T, TargetError>;

/// Environment variables a token is read from when `--token-env` is not given, in this order.
pub const TOKEN_ENVS: [&str; 2] = ["AZURE_DEVOPS_EXT_PAT", "SYSTEM_ACCESSTOKEN"];

/// One organization (or on-premises collection) and where its API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The organization's name (for dev.azure.com and visualstudio.com) or the collection's.
    pub org: String,
    /// `scheme://host[:port]/path` every API call and web link starts with, no trailing slash.
    pub base: String,
    /// `scheme://host[:port]` the token may be sent to (lower-case host).
    pub origin: String,
    /// Set when `PATROL_ADO_BASE_URL` replaced the real host.
    pub overridden: bool,
}

impl Target {
    /// Parse `https://dev.azure.com/ORG`, `https://ORG.visualstudio.com` or an on-premises
    /// `https://server[:port]/COLLECTION`; with `override_base` (a loopback base accepted by
    /// [`Endpoints::from_override`]) the API is `<override>/ORG` instead.
    pub fn parse(url: &str, override_base: Option<&str>) -> Result<Target> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| TargetError::NotHttps(url.to_string()))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() || authority.contains(['@', '?', '#', '\\']) {
            return Err(TargetError::UserOrQuery(url.to_string()));
        }
        let host = authority.to_ascii_lowercase();
        let segments: Vec<&str> = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let (org, base_path) = if let Some(name) = host.strip_suffix(".visualstudio.com") {
            (name.to_string(), String::new())
        } else {
            let first = segments
                .first()
                .ok_or_else(|| TargetError::NoOrganization(url.to_string()))?;
            (first.to_string(), format!("/{first}"))
        };
        if !valid_org(&org) {
            return Err(TargetError::BadOrganization(org));
        }
        match override_base {
            Some(ov) => {
                let endpoints = Endpoints::from_override(Some(ov))?;
                let origin = endpoints.overridden().expect("override set").to_string();
                Ok(Target {
                    base: format!("{origin}/{org}"),
                    org,
                    origin,
                    overridden: true,
                })
            }
            None => {
                let origin = format!("https://{host}");
                Ok(Target {
                    base: format!("{origin}{base_path}"),
                    org,
                    origin,
                    overridden: false,
                })
            }
        }
    }

    /// [`Target::parse`] with the override taken from `PATROL_ADO_BASE_URL`.
    pub fn from_env(url: &str) -> Result<Target> {
        let ov = std::env::var(BASE_URL_ENV).ok().filter(|v| !v.is_empty());
        Target::parse(url, ov.as_deref())
    }

    /// The clone URL to fetch from, or why not: `remote` (from an API answer) must be on this
    /// organization's origin (HTTPS, or the loopback override's scheme); any `user@` part is
    /// dropped so no name or password travels in the URL.
    pub fn clone_url(&self, remote: &str) -> Result<String> {
        let (scheme, rest) = remote
            .split_once("://")
            .ok_or(TargetError::CloneUrlNoScheme)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let origin = format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        );
        let origin = origin.strip_suffix(":443").unwrap_or(&origin).to_string();
        if origin != self.origin {
            return Err(TargetError::CloneUrlElsewhere(self.origin.clone()));
        }
        if tail.contains(['?', '#']) || tail.contains("/../") || tail.contains("\\") {
            return Err(TargetError::CloneUrlOdd);
        }
        Ok(format!("{origin}{tail}"))
    }
}

/// The credential, as the one `Authorization` header value it becomes. Its `Debug` hides it.
#[derive(Clone)]
pub struct Token {
    header: String,
    raw: String,
    /// Which environment variable it came from (for messages).
    pub source: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(from {})", self.source)
    }
}

impl Token {
    /// A JWT (Entra token, `System.AccessToken`) goes as `Bearer`, anything else (a PAT) as
    /// `Basic base64(":" + PAT)`.
    pub fn new(raw: String, source: &str) -> Token {
        let raw = raw.trim().to_string();
        let is_jwt = raw.starts_with("eyJ") && raw.matches('.').count() == 2;
        let header = if is_jwt {
            format!("Bearer {raw}")
        } else {
            crate::verify::client::basic_auth(&raw)
        };
        Token {
            header,
            raw,
            source: source.to_string(),
        }
    }

    /// Read it from `--token-env NAME`, else the first of [`TOKEN_ENVS`] that is set.
    pub fn from_env(name: Option<&str>) -> Result<Token> {
        let names: Vec<&str> = match name {
            Some(n) => vec![n],
            None => TOKEN_ENVS.to_vec(),
        };
        for n in &names {
            if let Ok(v) = std::env::var(n)
                && !v.trim().is_empty()
            {
                return Ok(Token::new(v, n));
            }
        }
        Err(TargetError::NoToken(names.join(" or ")))
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// Remove the token (raw and as sent) from a text that may quote it, e.g. an error.
    pub fn scrub(&self, text: &str) -> String {
        let mut s = text.replace(&self.raw, "[token]");
        if let Some(enc) = self.header.strip_prefix("Basic ") {
            s = s.replace(enc, "[token]");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_urls() {
        let t = Target::parse("https://dev.azure.com/contoso/", None).unwrap();
        assert_eq!(
            (t.org.as_str(), t.base.as_str(), t.origin.as_str()),
            (
                "contoso",
                "https://dev.azure.com/contoso",
                "https://dev.azure.com"
            )
        );
        let t = Target::parse("https://Contoso.VisualStudio.com", None).unwrap();
        assert_eq!(t.base, "https://contoso.visualstudio.com");
        assert_eq!(t.org, "contoso");
        let t = Target::parse("https://tfs.example:8443/DefaultCollection", None).unwrap();
        assert_eq!(t.base, "https://tfs.example:8443/DefaultCollection");
        let t = Target::parse("https://dev.azure.com/contoso", Some("http://127.0.0.1:9")).unwrap();
        assert_eq!(t.base, "http://127.0.0.1:9/contoso");
        assert!(t.overridden);
        for bad in [
            "http://dev.azure.com/contoso",
            "https://dev.azure.com/",
            "https://user:pw@dev.azure.com/contoso",
            "https://dev.azure.com/con.toso",
        ] {
            assert!(Target::parse(bad, None).is_err(), "{bad}");
        }
        assert!(Target::parse("https://dev.azure.com/c", Some("http://10.0.0.1")).is_err());
    }

    #[test]
    fn clone_urls_stay_on_the_organization_host() {
        let t = Target::parse("https://dev.azure.com/contoso", None).unwrap();
        assert_eq!(
            t.clone_url("https://contoso@dev.azure.com/contoso/p/_git/r")
                .unwrap(),
            "https://dev.azure.com/contoso/p/_git/r"
        );
        assert_eq!(
            t.clone_url("https://dev.azure.com:443/contoso/p/_git/r")
                .unwrap(),
            "https://dev.azure.com/contoso/p/_git/r"
        );
        for bad in [
            "https://evil.example/contoso/p/_git/r",
            "http://dev.azure.com/contoso/p/_git/r",
            "https://dev.azure.com.evil.example/x",
            "https://x@evil.example@dev.azure.com.evil/x",
            "ssh://dev.azure.com/x",
            "dev.azure.com/x",
        ] {
            assert!(t.clone_url(bad).is_err(), "{bad}");
        }
        let t = Target::parse("https://dev.azure.com/o", Some("http://127.0.0.1:8080")).unwrap();
        assert!(t.clone_url("http://127.0.0.1:8080/o/p/_git/r").is_ok());
        assert!(t.clone_url("http://127.0.0.1:8081/o/p/_git/r").is_err());
    }

    #[test]
    fn tokens_pick_their_scheme_and_hide() {
        let pat = Token::new("abc".into(), "X");
        assert_eq!(pat.header(), "Basic OmFiYw==");
        let jwt = Token::new("eyJhbGc.eyJzdWIi.sig".into(), "X");
        assert_eq!(jwt.header(), "Bearer eyJhbGc.eyJzdWIi.sig");
        assert!(!format!("{pat:?}").contains("abc"));
        assert_eq!(pat.scrub("a abc OmFiYw== b"), "a [token] [token] b");
    }
}
