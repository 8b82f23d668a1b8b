//! Reading Azure DevOps' answer: status, content type and body in, a [`Verification`] (or a
//! request to retry later) out. Pure, so every rule of the README's "Live verification" has a unit test here.
//! Not for sending requests: see `client`.

use super::endpoint::Endpoint;
use crate::finding::{Identity, Verification};
use serde_json::Value;
use std::time::Duration;

/// The wait after a 429 whose `Retry-After` is missing or not a number of seconds.
pub const RETRY_AFTER_DEFAULT: Duration = Duration::from_secs(5);
/// Longest display name or account kept from an answer.
const MAX_IDENTITY_PART: usize = 100;

/// The parts of an HTTP answer that decide the outcome.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub retry_after: Option<&'a str>,
    pub body: &'a str,
}

/// What to do with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The token works: whose it is, and the organisation that answered (none for the profile).
    Valid {
        identity: Identity,
        organization: Option<String>,
    },
    /// Anything but valid.
    Done(Verification),
    /// HTTP 429: ask again after this long.
    RetryAfter(Duration),
}

fn unknown(reason: impl Into<String>) -> Outcome {
    Outcome::Done(Verification::Unknown {
        reason: reason.into(),
    })
}

/// Classify one answer from `endpoint`.
pub fn classify(endpoint: Endpoint, answer: &Answer) -> Outcome {
    let status = answer.status;
    match status {
        203 => unknown(
            "HTTP 203 with a sign-in page instead of an API answer; the token was not accepted \
             as such",
        ),
        200..=299 if is_html(answer) => unknown(format!(
            "HTTP {status} with an HTML page instead of the API's JSON"
        )),
        200..=299 => match serde_json::from_str::<Value>(answer.body) {
            Ok(json) => match endpoint {
                Endpoint::ConnectionData { org } => connection_data(&json, org),
                Endpoint::Profile => profile(&json),
            },
            Err(_) => unknown(format!("HTTP {status} without the expected JSON")),
        },
        300..=399 => unknown(format!(
            "redirected (HTTP {status}); redirects are not followed"
        )),
        401 => match endpoint {
            Endpoint::ConnectionData { .. } => Outcome::Done(Verification::Invalid),
            Endpoint::Profile => unknown(
                "rejected by the organisation-less endpoint; the token may be scoped to one \
                 organisation (none was found near it)",
            ),
        },
        403 => unknown("refused with HTTP 403 (forbidden)"),
        404 => match endpoint {
            Endpoint::ConnectionData { org } => {
                unknown(format!("HTTP 404: organisation '{org}' was not found"))
            }
            Endpoint::Profile => unknown("HTTP 404 from the profile endpoint"),
        },
        429 => Outcome::RetryAfter(retry_after(answer.retry_after)),
        500..=599 => unknown(format!("Azure DevOps server error (HTTP {status})")),
        _ => unknown(format!("unexpected answer HTTP {status}")),
    }
}

fn is_html(answer: &Answer) -> bool {
    let ct_html = answer.content_type.is_some_and(|ct| {
        let ct = ct.trim_start().to_ascii_lowercase();
        ct.starts_with("text/html") || ct.starts_with("application/xhtml")
    });
    ct_html || answer.body.trim_start().starts_with('<')
}

/// `Retry-After` in seconds, as asked (the client decides how long it is willing to wait);
/// HTTP dates and garbage get the default wait.
pub fn retry_after(header: Option<&str>) -> Duration {
    header
        .and_then(|h| h.trim().parse::<u64>().ok())
        .map_or(RETRY_AFTER_DEFAULT, Duration::from_secs)
}

fn str_at<'a>(json: &'a Value, pointer: &str) -> Option<&'a str> {
    json.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `authenticatedUser` of `_apis/connectionData`.
fn connection_data(json: &Value, org: &str) -> Outcome {
    let Some(id) = str_at(json, "/authenticatedUser/id") else {
        return unknown("HTTP 200 without the expected JSON (no authenticatedUser.id)");
    };
    let descriptor = str_at(json, "/authenticatedUser/descriptor").unwrap_or("");
    let anonymous = ["PublicAccess", "UnauthenticatedIdentity", "Anonymous"]
        .iter()
        .any(|m| descriptor.contains(m))
        || id.chars().all(|c| matches!(c, '0' | 'a' | '-'));
    if anonymous {
        return unknown("answered for an anonymous user; the token was not used");
    }
    let name = str_at(json, "/authenticatedUser/providerDisplayName");
    let account = str_at(json, "/authenticatedUser/properties/Account/$value");
    Outcome::Valid {
        identity: identity(name, account, id),
        organization: Some(org.to_string()),
    }
}

/// `_apis/profile/profiles/me`.
fn profile(json: &Value) -> Outcome {
    let Some(id) = str_at(json, "/id") else {
        return unknown("HTTP 200 without the expected JSON (no profile id)");
    };
    let name = str_at(json, "/displayName");
    let email = str_at(json, "/emailAddress");
    Outcome::Valid {
        identity: identity(name, email, id),
        organization: None,
    }
}

/// The identity, from server text made safe to print on a terminal.
fn identity(name: Option<&str>, account: Option<&str>, id: &str) -> Identity {
    Identity {
        display_name: name.map(printable),
        email: account.map(printable),
        id: printable(id),
        descriptor: None,
    }
}

/// Drop control and bidirectional-formatting characters (terminal escapes, spoofing) and
/// cap the length.
pub fn printable(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .take(MAX_IDENTITY_PART)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: Endpoint = Endpoint::ConnectionData { org: "contoso" };
    const CONNECTION_DATA: &str = r#"{"authenticatedUser":{"id":"1d2c3b4a-0000-4000-8000-00000000abcd",
        "descriptor":"Microsoft.IdentityModel.Claims.ClaimsIdentity;x\\jane@contoso.com",
        "providerDisplayName":"Jane Doe","properties":{"Account":{"$type":"System.String",
        "$value":"jane@contoso.com"}}},"instanceId":"f"}"#;
    const PROFILE: &str = r#"{"displayName":"Jane Doe","publicAlias":"x",
        "emailAddress":"jane@contoso.com","id":"1d2c3b4a-0000-4000-8000-00000000abcd"}"#;

    fn answer(status: u16, content_type: &'static str, body: &'static str) -> Answer<'static> {
        Answer {
            status,
            content_type: Some(content_type),
            retry_after: None,
            body,
        }
    }

    fn reason(o: Outcome) -> String {
        match o {
            Outcome::Done(Verification::Unknown { reason }) => reason,
            other => panic!("expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn valid_needs_the_expected_json() {
        let o = classify(ORG, &answer(200, "application/json", CONNECTION_DATA));
        let Outcome::Valid {
            identity,
            organization,
        } = o
        else {
            panic!("{o:?}")
        };
        assert_eq!(
            identity.describe(),
            "Jane Doe <jane@contoso.com> (id 1d2c3b4a-0000-4000-8000-00000000abcd)"
        );
        assert_eq!(organization.as_deref(), Some("contoso"));
        let o = classify(Endpoint::Profile, &answer(200, "application/json", PROFILE));
        assert!(matches!(
            o,
            Outcome::Valid { ref identity, organization: None }
                if identity.describe().starts_with("Jane Doe <jane@contoso.com>")
        ));
        assert!(reason(classify(ORG, &answer(200, "application/json", "{}"))).contains("JSON"));
        assert!(reason(classify(ORG, &answer(200, "application/json", "nope"))).contains("JSON"));
        assert!(reason(classify(ORG, &answer(204, "application/json", ""))).contains("JSON"));
        assert!(
            reason(classify(Endpoint::Profile, &answer(200, "", PROFILE_NO_ID))).contains("id")
        );
    }

    const PROFILE_NO_ID: &str = r#"{"displayName":"Jane"}"#;

    #[test]
    fn html_and_203_are_never_valid() {
        let page = "<!DOCTYPE html><html><title>Sign In</title></html>";
        assert!(
            reason(classify(
                ORG,
                &answer(203, "text/html; charset=utf-8", page)
            ))
            .contains("203")
        );
        assert!(
            reason(classify(
                ORG,
                &answer(203, "application/json", CONNECTION_DATA)
            ))
            .contains("203")
        );
        assert!(reason(classify(ORG, &answer(200, "text/html", CONNECTION_DATA))).contains("HTML"));
        assert!(reason(classify(ORG, &answer(200, "application/json", page))).contains("HTML"));
    }

    #[test]
    fn anonymous_answers_are_unknown() {
        let anon = r#"{"authenticatedUser":{"id":"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
            "descriptor":"System:PublicAccess;aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
            "providerDisplayName":"Anonymous"}}"#;
        assert!(
            reason(classify(ORG, &answer(200, "application/json", anon))).contains("anonymous")
        );
    }

    #[test]
    fn status_codes() {
        let j = "application/json";
        assert_eq!(
            classify(ORG, &answer(401, j, "")),
            Outcome::Done(Verification::Invalid)
        );
        assert!(
            reason(classify(Endpoint::Profile, &answer(401, j, ""))).contains("organisation-less")
        );
        assert!(reason(classify(ORG, &answer(302, j, ""))).contains("redirect"));
        assert!(reason(classify(ORG, &answer(301, j, ""))).contains("redirect"));
        assert!(reason(classify(ORG, &answer(500, j, ""))).contains("500"));
        assert!(reason(classify(ORG, &answer(503, j, ""))).contains("503"));
        assert!(reason(classify(ORG, &answer(404, j, ""))).contains("contoso"));
        assert!(reason(classify(ORG, &answer(403, j, ""))).contains("403"));
        assert!(reason(classify(ORG, &answer(418, j, ""))).contains("418"));
    }

    #[test]
    fn too_many_requests_asks_for_a_retry() {
        let mut a = answer(429, "application/json", "");
        a.retry_after = Some("1");
        assert_eq!(
            classify(ORG, &a),
            Outcome::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(retry_after(Some("3600")), Duration::from_secs(3600));
        assert_eq!(retry_after(Some(" 0 ")), Duration::ZERO);
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            RETRY_AFTER_DEFAULT
        );
        assert_eq!(retry_after(None), RETRY_AFTER_DEFAULT);
    }

    #[test]
    fn identity_text_is_made_printable() {
        let body = r#"{"id":"42","displayName":"Eve\u001b[31m\u202eX","emailAddress":"e\n@x"}"#;
        let o = classify(
            Endpoint::Profile,
            &Answer {
                status: 200,
                content_type: None,
                retry_after: None,
                body,
            },
        );
        let Outcome::Valid { identity, .. } = o else {
            panic!("{o:?}")
        };
        assert_eq!(identity.describe(), "Eve[31mX <e@x> (id 42)");
        assert_eq!(printable(&"x".repeat(500)).len(), MAX_IDENTITY_PART);
    }
}
