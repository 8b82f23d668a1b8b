//! Placeholder detection: values that stand where a secret would, but are not one
//! (`<your-pat-here>`, `$(System.AccessToken)`, `${{ secrets.X }}`, `password`, `xxxx`).

/// Words that people write in place of a real password.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "changeme",
    "change_me",
    "changeit",
    "example",
    "sample",
    "test",
    "testing",
    "dummy",
    "fake",
    "placeholder",
    "redacted",
    "hidden",
    "none",
    "null",
    "nil",
    "undefined",
    "token",
    "pat",
    "mypassword",
    "admin",
    "root",
    "user",
    "username",
    "foo",
    "bar",
    "baz",
    "foobar",
    "qwerty",
    "letmein",
    "123456",
    "12345678",
    "abc123",
    "value",
    "string",
    "empty",
    "default",
    "guest",
    "anonymous",
    "p@ssw0rd",
    "p@ssword",
    "passw0rd",
    "password1",
    "password123",
    "secret123",
];

/// Fragments that mark a template, variable reference or instruction.
const PLACEHOLDER_MARKS: &[&str] = &[
    "${",
    "$(",
    "{{",
    "}}",
    "%(",
    "<",
    ">",
    "***",
    "xxx",
    "...",
    "your",
    "example",
    "placeholder",
    "redacted",
    "changeme",
    "insert",
    "replace",
    "dummy",
    "fake",
    "secret_",
    "_here",
];

/// True when `value` is evidently not a real secret.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.chars().count() < 4 {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return true;
    }
    if PLACEHOLDER_MARKS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    // $VAR, %VAR%, @VAR@, #{VAR}#: variable references of shells, batch files and pipelines.
    if lower.starts_with('$')
        || (lower.starts_with('%') && lower.ends_with('%'))
        || (lower.starts_with('@') && lower.ends_with('@'))
        || lower.starts_with("#{")
    {
        return true;
    }
    let mut chars = v.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return true;
    }
    false
}

/// Hosts whose credentials are test or documentation data: loopback, `example.*` (RFC 2606),
/// and the reserved `.test`, `.example`, `.invalid`, `.localhost` names.
pub fn is_example_host(host: &[u8]) -> bool {
    let h = String::from_utf8_lossy(host).to_ascii_lowercase();
    let h = h.trim_end_matches('.');
    h == "localhost"
        || h.starts_with("127.")
        || h.starts_with("[::1]")
        || h == "0.0.0.0"
        || h == "example.com"
        || h == "example.org"
        || h == "example.net"
        || [
            ".example.com",
            ".example.org",
            ".example.net",
            ".test",
            ".example",
            ".invalid",
            ".localhost",
        ]
        .iter()
        .any(|suffix| h.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::{is_example_host, is_placeholder};

    #[test]
    fn placeholders() {
        for p in [
            "<your-pat-here>",
            "$(System.AccessToken)",
            "${{ secrets.ADO_PAT }}",
            "password",
            "xxxxxxxx",
            "$PAT",
            "%NUGET_PAT%",
            "#{Pat}#",
            "abc",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in [
            "Tr0ub4dor&3x",
            "Xk9@q2Lr7w",
            "aaatwayeaudnhgajbifqydiob4ibceqtcqkucfyydenbwha5dypq",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
        for host in [
            "localhost",
            "127.0.0.1",
            "[::1]",
            "example.com",
            "api.example.org",
            "svc.test",
        ] {
            assert!(is_example_host(host.as_bytes()), "{host}");
        }
        for host in ["dev.azure.com", "pkgs.example.corp", "examples.com"] {
            assert!(!is_example_host(host.as_bytes()), "{host}");
        }
    }
}
