//! URIs SARIF may show: a finding's `artifactLocation` and a repository's URI without
//! credentials.

use super::SRCROOT;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_sarif::sarif::ArtifactLocation;

/// Characters left as they are in a URI path: RFC 3986 unreserved characters and `/`.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `C:/…` or `C:\…`: a Windows absolute path.
fn is_drive_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'/' | b'\\')
}

/// `artifactLocation` for a finding's path: repository-relative (against `%SRCROOT%`) when the
/// path is relative, a `file://` URI when it is absolute (a file named on the command line).
pub fn artifact_location(path: &str) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    let is_drive = is_drive_path(&path);
    if path.starts_with('/') || is_drive {
        let abs = if is_drive { format!("/{path}") } else { path };
        let uri = format!("file://{}", utf8_percent_encode(&abs, PATH_KEEP));
        // The drive letter's colon may stay: `file:///C:/x`.
        let uri = uri.replacen("%3A", ":", usize::from(is_drive));
        return ArtifactLocation::builder().uri(uri).build();
    }
    // Only names that stay under %SRCROOT%: `..`, `.` and empty components are dropped (a
    // crafted tree entry such as `a/../../etc/passwd` must not point a viewer outside).
    let rel: Vec<&str> = path
        .split('/')
        .filter(|c| !matches!(*c, "" | "." | ".."))
        .collect();
    ArtifactLocation::builder()
        .uri(utf8_percent_encode(&rel.join("/"), PATH_KEEP).to_string())
        .uri_base_id(SRCROOT)
        .build()
}

/// The repository URI as SARIF may show it: an absolute URI with any `user:password@`, query
/// and fragment removed (a clone URL can hold a PAT), scp-style `git@host:path` as `ssh://`, a
/// local path as `file://`. `None` if it cannot be made into one.
///
/// Malformed remotes lose their credentials too: `https:/x:<token>@host/p` (one slash) is read
/// as `https://host/p`, and in `x:<token>@host` everything up to the `@` is dropped.
pub fn repository_uri(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.starts_with('/') || is_drive_path(raw) {
        return artifact_location(raw).uri;
    }
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    // A query or fragment can carry a token too (`?access_token=…`): drop them first.
    let raw = raw.split(['?', '#']).next().unwrap_or_default();
    if let Some((scheme, rest)) = raw.split_once(':')
        && is_scheme(scheme)
        && (rest.starts_with("//") || KNOWN_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
    {
        // Credentials end at the last `@`, wherever a malformed URL put the slashes.
        let rest = rest.trim_start_matches('/');
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() && !scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        return Some(format!("{scheme}://{host}{path}"));
    }
    // scp-like syntax: [user@]host:path. Whatever precedes the last `@` before the first `/` is
    // a user name, or credentials of a mangled URL: dropped.
    let head_end = raw.find('/').unwrap_or(raw.len());
    let raw = match raw[..head_end].rfind('@') {
        Some(at) => &raw[at + 1..],
        None => raw,
    };
    let (host, path) = raw.split_once(':')?;
    if host.is_empty() || host.contains('/') || path.is_empty() {
        return None;
    }
    let path = path.trim_start_matches('/');
    Some(format!("ssh://{host}/{path}"))
}

/// Schemes of git remotes, recognised even when the `//` after them is missing or mangled.
const KNOWN_SCHEMES: &[&str] = &[
    "http", "https", "ssh", "git", "file", "ftp", "ftps", "git+ssh", "ssh+git",
];

fn is_scheme(s: &str) -> bool {
    s.len() > 1
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}
