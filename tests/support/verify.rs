//! A mock Azure DevOps for `--verify` tests: a tiny HTTP/1.1 server on 127.0.0.1 that answers
//! `connectionData` and `profiles/me` the way the real service does, per token, and records
//! every request it receives. Not a general HTTP server: GET without bodies, one request per
//! connection.

use super::run::{patrol_cmd, root};
use base64::Engine;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the mock answers requests carrying one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 with the identity JSON of the endpoint asked.
    Good,
    /// 401, as for a revoked or expired token.
    Bad,
    /// 200, but only after this long.
    Slow(Duration),
    /// 429 with `Retry-After: 1` on the first request, then like `Good`.
    RateLimitedOnce,
    /// 500.
    ServerError,
    /// 203 with an HTML sign-in page even with the suppress header.
    SignInPage,
    /// 302 to another path of the same server.
    Redirect,
    /// 429 with `Retry-After` of this many seconds, every time.
    RateLimitedFor(u64),
    /// A token for all organisations whose owner belongs to this one only: 200 from its
    /// `connectionData` and from the profile, 401 from any other organisation.
    MemberOf(&'static str),
    /// A token scoped to this organisation: 200 there, 401 elsewhere and from the profile.
    ScopedTo(&'static str),
    /// A token for all organisations whose owner belongs to several: answers the check
    /// endpoints, the Accounts API, the graph descriptor and the read-only probes.
    Reaching(&'static MockReach),
}

/// What a `Behaviour::Reaching` token's owner belongs to and may read.
#[derive(Debug, PartialEq, Eq)]
pub struct MockReach {
    /// Organisations of the owner (Accounts API); `connectionData` answers 200 only there.
    pub orgs: &'static [&'static str],
    /// Probes answered 200: `projects`, `git`, `builds`, `feeds`, `variablegroups`; the others
    /// answer 401 as for a token without that scope.
    pub readable: &'static [&'static str],
}

pub const DESCRIPTOR: &str = "aad.OGUyNDg2ZmYtbW9jay1kZXNjcmlwdG9y";
pub const PROJECT_ID: &str = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c";

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The token of `Authorization: Basic base64(":" + token)`, if the header has that form.
    pub fn token(&self) -> Option<String> {
        let b64 = self.header("authorization")?.strip_prefix("Basic ")?;
        let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        String::from_utf8(raw)
            .ok()?
            .strip_prefix(':')
            .map(str::to_string)
    }
}

pub const DISPLAY_NAME: &str = "Jane Mock";
pub const ACCOUNT: &str = "jane@contoso.example";
pub const USER_ID: &str = "3f2b9c4e-1d2a-4b5c-8d9e-0a1b2c3d4e5f";
pub const PROFILE_PATH: &str = "/_apis/profile/profiles/me?api-version=7.1";

/// A running mock. The server thread lives until the test process ends.
pub struct MockAdo {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl MockAdo {
    pub fn start(behaviours: HashMap<String, Behaviour>) -> MockAdo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let behaviours = Arc::new(behaviours);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                let behaviours = Arc::clone(&behaviours);
                std::thread::spawn(move || serve(stream, &seen, &behaviours));
            }
        });
        MockAdo { base, requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests that carried `token`.
    pub fn requests_for(&self, token: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.token().as_deref() == Some(token))
            .collect()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Recorded>>, behaviours: &HashMap<String, Behaviour>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let req = Recorded {
        method,
        path,
        headers,
    };
    let earlier = {
        let mut all = seen.lock().unwrap();
        let token = req.token();
        let n = all.iter().filter(|r| r.token() == token).count();
        all.push(req.clone());
        n
    };
    let reply = answer(&req, earlier, behaviours);
    let mut out = stream;
    let _ = out.write_all(reply.as_bytes());
    let _ = out.flush();
}

fn response(status: &str, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

const SIGN_IN_PAGE: &str = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In\
                            </title></head><body>Sign in</body></html>";

fn answer(req: &Recorded, earlier: usize, behaviours: &HashMap<String, Behaviour>) -> String {
    let sign_in = || {
        response(
            "203 Non-Authoritative Information",
            "text/html",
            "",
            SIGN_IN_PAGE,
        )
    };
    let unauthorized = || response("401 Unauthorized", "application/json", "", "");
    // Like the real service: without the suppress header, an API call gets the sign-in page.
    if req.header("x-tfs-fedauthredirect") != Some("Suppress") {
        return sign_in();
    }
    let Some(behaviour) = req.token().and_then(|t| behaviours.get(&t).copied()) else {
        return unauthorized();
    };
    let ok = || {
        let body = if req.path == PROFILE_PATH {
            format!(
                r#"{{"displayName":"{DISPLAY_NAME}","publicAlias":"{USER_ID}","emailAddress":"{ACCOUNT}","coreRevision":1,"timeStamp":"2025-01-01T00:00:00+00:00","id":"{USER_ID}","revision":1}}"#
            )
        } else if req.path.ends_with("/_apis/connectionData") && req.path.matches('/').count() == 3
        {
            format!(
                r#"{{"authenticatedUser":{{"id":"{USER_ID}","descriptor":"Microsoft.IdentityModel.Claims.ClaimsIdentity;mock\\{ACCOUNT}","providerDisplayName":"{DISPLAY_NAME}","isActive":true,"properties":{{"Account":{{"$type":"System.String","$value":"{ACCOUNT}"}}}}}},"instanceId":"00000000-0000-0000-0000-000000000001","deploymentType":"hosted"}}"#
            )
        } else {
            return response("404 Not Found", "application/json", "", "{}");
        };
        response("200 OK", "application/json; charset=utf-8", "", &body)
    };
    let org = req
        .path
        .strip_suffix("/_apis/connectionData")
        .map(|p| p.trim_start_matches('/'));
    if let Behaviour::Reaching(reach) = behaviour {
        return reaching(req, reach, org, ok);
    }
    match behaviour {
        Behaviour::Good => ok(),
        Behaviour::MemberOf(o) if org.is_none_or(|org| org == o) => ok(),
        Behaviour::ScopedTo(o) if org == Some(o) => ok(),
        Behaviour::MemberOf(_) | Behaviour::ScopedTo(_) | Behaviour::Reaching(_) => unauthorized(),
        Behaviour::RateLimitedFor(secs) => response(
            "429 Too Many Requests",
            "application/json",
            &format!("Retry-After: {secs}\r\n"),
            "",
        ),
        Behaviour::Bad => unauthorized(),
        Behaviour::Slow(d) => {
            std::thread::sleep(d);
            ok()
        }
        Behaviour::RateLimitedOnce if earlier == 0 => response(
            "429 Too Many Requests",
            "application/json",
            "Retry-After: 1\r\n",
            "",
        ),
        Behaviour::RateLimitedOnce => ok(),
        Behaviour::ServerError => response("500 Internal Server Error", "text/plain", "", "boom"),
        Behaviour::SignInPage => sign_in(),
        Behaviour::Redirect => response(
            "302 Found",
            "text/html",
            "Location: /_signin?redirect=1\r\n",
            "",
        ),
    }
}

fn reaching(
    req: &Recorded,
    reach: &MockReach,
    check_org: Option<&str>,
    ok: impl Fn() -> String,
) -> String {
    let json = |body: String| response("200 OK", "application/json; charset=utf-8", "", &body);
    let unauthorized = || response("401 Unauthorized", "application/json", "", "");
    let path = req.path.as_str();
    if path == PROFILE_PATH {
        return ok();
    }
    if let Some(org) = check_org {
        return if reach.orgs.contains(&org) {
            ok()
        } else {
            unauthorized()
        };
    }
    if path == format!("/_apis/accounts?memberId={USER_ID}&api-version=7.1") {
        let list: Vec<String> = reach
            .orgs
            .iter()
            .map(|o| format!(r#"{{"accountId":"00000000-0000-0000-0000-000000000002","accountName":"{o}","accountUri":"https://{o}.vssps.visualstudio.com/"}}"#))
            .collect();
        return json(format!(
            r#"{{"count":{},"value":[{}]}}"#,
            list.len(),
            list.join(",")
        ));
    }
    let (org, rest) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or_default();
    if !reach.orgs.contains(&org) {
        return response("404 Not Found", "application/json", "", "{}");
    }
    if rest.starts_with(&format!("_apis/graph/descriptors/{USER_ID}?")) {
        return json(format!(r#"{{"value":"{DESCRIPTOR}"}}"#));
    }
    let probe = [
        ("projects", "_apis/projects?".to_string()),
        ("git", "_apis/git/repositories?".to_string()),
        ("builds", format!("{PROJECT_ID}/_apis/build/builds?")),
        ("feeds", "_apis/packaging/feeds?".to_string()),
        (
            "variablegroups",
            format!("{PROJECT_ID}/_apis/distributedtask/variablegroups?"),
        ),
    ]
    .into_iter()
    .find(|(_, prefix)| rest.starts_with(prefix.as_str()));
    match probe {
        Some((name, _)) if reach.readable.contains(&name) => json(format!(
            r#"{{"count":1,"value":[{{"id":"{PROJECT_ID}","name":"app"}}]}}"#
        )),
        Some(_) => unauthorized(),
        None => response("404 Not Found", "application/json", "", "{}"),
    }
}

/// `patrol scan DIR --color never ARGS…` with verification requests sent to the mock at
/// `base` and no proxy.
pub fn scan_against(dir: &Path, base: &str, args: &[&str]) -> Output {
    patrol_cmd(&["scan"], root())
        .arg(dir)
        .args(["--color", "never"])
        .args(args)
        .env("PATROL_ADO_BASE_URL", base)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run patrol")
}
