//! `patrol scan --verify` against a mock Azure DevOps on 127.0.0.1 (never the internet):
//! the status reported per token, one request per distinct token, the exact headers sent,
//! `--fail-on`, the loopback-only override, and that no raw token is ever printed.

mod support;

use patrol::verify::reach::MAX_REQUESTS;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use support::fixture::write;
use support::tokens::{b64, id_key, pats};
use support::verify::{
    ACCOUNT, Behaviour, DISPLAY_NAME, MockAdo, PROFILE_PATH, Recorded, USER_ID, scan_against,
};

const ORG: &str = "contoso";

/// The token used with the organisation on its own line: a rejection there is final.
fn with_org(token: &str) -> String {
    format!(
        "AZURE_DEVOPS_EXT_PAT={token} az devops project list --org https://dev.azure.com/{ORG}/\n"
    )
}

/// The organisation only guessed: a badge of it two lines above the token.
fn near_org(token: &str, org: &str) -> String {
    format!(
        "[![build](https://dev.azure.com/{org}/app/_apis/build/status/ci)](x)\n\nAZURE_DEVOPS_EXT_PAT={token}\n"
    )
}

fn without_org(token: &str) -> String {
    format!("export AZURE_DEVOPS_EXT_PAT={token}\n")
}

/// Verification object of each finding, by file name.
fn verifications(out: &Output) -> HashMap<String, Vec<Value>> {
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut by_file: HashMap<String, Vec<Value>> = HashMap::new();
    for f in doc["findings"].as_array().unwrap() {
        let mut v = f["verification"].clone();
        v["severity"] = f["severity"].clone();
        by_file
            // Paths start with the scanned directory as given (`root`, absolute here).
            .entry(relative(&doc, f))
            .or_default()
            .push(v);
    }
    by_file
}

/// A finding's path without the scanned directory in front.
fn relative(doc: &Value, f: &Value) -> String {
    let root = format!("{}/", doc["root"].as_str().expect("one directory scanned"));
    let path = f["path"].as_str().unwrap();
    path.strip_prefix(&root).unwrap_or(path).to_string()
}

fn assert_no_token_printed(out: &Output, tokens: &[&String]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for t in tokens {
        assert!(!stdout.contains(t.as_str()), "a token is in stdout");
        assert!(!stderr.contains(t.as_str()), "a token is in stderr");
    }
}

/// Whether a request is one of the validity checks (not a reach probe).
fn is_check(path: &str) -> bool {
    path == PROFILE_PATH || path.ends_with("/_apis/connectionData")
}

fn check_requests(mock: &MockAdo, token: &str) -> Vec<Recorded> {
    mock.requests_for(token)
        .into_iter()
        .filter(|r| is_check(&r.path))
        .collect()
}

fn only<'a>(found: &'a HashMap<String, Vec<Value>>, file: &str) -> &'a Value {
    let v = found
        .get(file)
        .unwrap_or_else(|| panic!("no finding in {file}: {found:?}"));
    assert_eq!(v.len(), 1, "{file}: {v:?}");
    &v[0]
}

#[test]
fn each_token_gets_its_status_from_one_request() {
    let t = pats(11, 8);
    let (good, bad, slow, limited, error, sign_in, redirect, profile_bad) =
        (&t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7]);
    let profile_good = id_key(12, "AZDO");
    let mock = MockAdo::start(HashMap::from([
        (good.clone(), Behaviour::Good),
        (bad.clone(), Behaviour::Bad),
        (slow.clone(), Behaviour::Slow(Duration::from_secs(3))),
        (limited.clone(), Behaviour::RateLimitedOnce),
        (error.clone(), Behaviour::ServerError),
        (sign_in.clone(), Behaviour::SignInPage),
        (redirect.clone(), Behaviour::Redirect),
        (profile_good.clone(), Behaviour::Good),
        (profile_bad.clone(), Behaviour::Bad),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "good_a.env", with_org(good));
    write(d, "good_b.env", with_org(good));
    let basic = b64(&format!(":{good}"));
    write(
        d,
        "sub/good_c.sh",
        format!(
            "curl -H 'Authorization: Basic {basic}' https://dev.azure.com/{ORG}/_apis/projects\n"
        ),
    );
    write(d, "bad.env", with_org(bad));
    write(d, "slow.env", with_org(slow));
    write(d, "limited.env", with_org(limited));
    write(d, "error.env", with_org(error));
    write(d, "sign_in.env", with_org(sign_in));
    write(d, "redirect.env", with_org(redirect));
    write(d, "profile_good.env", without_org(&profile_good));
    write(d, "profile_bad.env", without_org(profile_bad));

    let out = scan_against(
        d,
        &mock.base,
        &["--verify", "--verify-timeout", "1", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "findings, fail-on any");
    let all: Vec<&String> = t.iter().chain([&profile_good]).collect();
    assert_no_token_printed(&out, &all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PATROL_ADO_BASE_URL"),
        "override warning: {stderr}"
    );

    let found = verifications(&out);
    for file in ["good_a.env", "good_b.env", "sub/good_c.sh"] {
        let v = only(&found, file);
        assert_eq!(v["status"], "valid", "{file}: {v}");
        assert_eq!(v["organization"], ORG);
        assert_eq!(v["severity"], "critical");
        let who = v["identity"].as_str().unwrap();
        for part in [DISPLAY_NAME, ACCOUNT, USER_ID] {
            assert!(who.contains(part), "{who}");
        }
    }
    let status = |file: &str| only(&found, file)["status"].as_str().unwrap().to_string();
    let reason = |file: &str| only(&found, file)["reason"].as_str().unwrap().to_string();
    assert_eq!(status("bad.env"), "invalid");
    assert_eq!(status("slow.env"), "unknown");
    assert!(
        reason("slow.env").contains("timed out"),
        "{}",
        reason("slow.env")
    );
    assert_eq!(status("limited.env"), "valid");
    assert_eq!(status("error.env"), "unknown");
    assert!(reason("error.env").contains("500"));
    assert_eq!(status("sign_in.env"), "unknown");
    assert!(reason("sign_in.env").contains("203"));
    assert_eq!(status("redirect.env"), "unknown");
    assert!(reason("redirect.env").contains("redirect"));
    let p = only(&found, "profile_good.env");
    assert_eq!(p["status"], "valid");
    assert!(p.get("organization").is_none(), "{p}");
    assert!(p["identity"].as_str().unwrap().contains(ACCOUNT));
    assert_eq!(status("profile_bad.env"), "unknown");
    assert!(reason("profile_bad.env").contains("organisation-less"));

    // One check request per distinct token (two for the one answered 429 first); only the
    // valid ones go on to map their reach, within the documented bound.
    let requests = mock.requests();
    for tok in &all {
        let n = check_requests(&mock, tok).len();
        let want = if *tok == limited { 2 } else { 1 };
        assert_eq!(n, want, "check requests for one token");
        let valid = [good, limited, &profile_good].contains(tok);
        let total = mock.requests_for(tok).len();
        assert!(total <= MAX_REQUESTS as usize + 1, "{total} requests");
        if !valid {
            assert_eq!(total, n, "no reach for a token that is not valid");
        }
    }
    assert!(
        requests.iter().all(|r| r.token().is_some()),
        "no request without a token, no redirect followed"
    );
    for r in requests.iter().filter(|r| is_check(&r.path)) {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("x-tfs-fedauthredirect"), Some("Suppress"));
        assert_eq!(r.header("accept"), Some("application/json"));
        assert!(r.header("user-agent").unwrap().starts_with("patrol/"));
        let tok = r.token().expect("Basic auth with an empty user");
        let expect = format!("Basic {}", b64(&format!(":{tok}")));
        assert_eq!(r.header("authorization"), Some(expect.as_str()));
        let want_path = if tok == profile_good || &tok == profile_bad {
            PROFILE_PATH.to_string()
        } else {
            format!("/{ORG}/_apis/connectionData")
        };
        assert_eq!(r.path, want_path);
    }
}

#[test]
fn fail_on_valid_fails_only_for_live_tokens() {
    let t = pats(21, 2);
    let (good, bad) = (&t[0], &t[1]);
    let mock = MockAdo::start(HashMap::from([
        (good.clone(), Behaviour::Good),
        (bad.clone(), Behaviour::Bad),
    ]));
    let dead = tempfile::tempdir().unwrap();
    write(dead.path(), "a.env", with_org(bad));
    let live = tempfile::tempdir().unwrap();
    write(live.path(), "a.env", with_org(bad));
    write(live.path(), "b.env", with_org(good));

    let code = |dir: &Path, args: &[&str]| scan_against(dir, &mock.base, args).status.code();
    assert_eq!(
        code(dead.path(), &["--verify", "--fail-on", "valid"]),
        Some(0)
    );
    assert_eq!(code(dead.path(), &["--verify"]), Some(1));
    assert_eq!(code(dead.path(), &["--fail-on", "valid"]), Some(0));
    assert_eq!(
        code(live.path(), &["--verify", "--fail-on", "valid"]),
        Some(1)
    );
    assert_eq!(check_requests(&mock, good).len(), 1);
    assert_eq!(mock.requests_for(bad).len(), 3);

    // Human output names the live token's owner, and never the token.
    let out = scan_against(live.path(), &mock.base, &["--verify", "--verify-jobs", "1"]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("LIVE: valid token of Jane Mock"), "{human}");
    assert!(human.contains("verified: invalid"), "{human}");
    assert_no_token_printed(&out, &[good, bad]);
}

#[test]
fn without_verify_nothing_is_requested() {
    let t = pats(31, 1);
    let mock = MockAdo::start(HashMap::from([(t[0].clone(), Behaviour::Good)]));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", with_org(&t[0]));
    let out = scan_against(dir.path(), &mock.base, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(only(&verifications(&out), "a.env")["status"], "not_checked");
    assert!(mock.requests().is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("PATROL_ADO_BASE_URL"));
}

#[test]
fn a_non_loopback_override_is_refused_before_any_request() {
    let t = pats(41, 1);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", with_org(&t[0]));
    for base in [
        "http://10.1.2.3:80",
        "http://127.0.0.1.example:80",
        "http://127.0.0.1@10.1.2.3",
    ] {
        let started = Instant::now();
        // A long timeout: had a connection been tried, the run would take seconds.
        let out = scan_against(
            dir.path(),
            base,
            &["--verify", "--verify-timeout", "30", "--format", "json"],
        );
        assert_eq!(out.status.code(), Some(2), "{base}");
        assert!(started.elapsed() < Duration::from_secs(5), "{base}");
        assert!(out.stdout.is_empty(), "no report: the run stopped first");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("PATROL_ADO_BASE_URL") && stderr.contains("refused"),
            "{stderr}"
        );
        assert_no_token_printed(&out, &[&t[0]]);
    }
}

#[test]
fn the_mock_demands_the_suppress_header_like_azure_devops() {
    use std::io::{Read, Write};
    let t = pats(51, 1);
    let mock = MockAdo::start(HashMap::from([(t[0].clone(), Behaviour::Good)]));
    let auth = b64(&format!(":{}", t[0]));
    let addr = mock.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /{ORG}/_apis/connectionData HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 203"), "{reply}");
    assert!(reply.contains("text/html"));
}

#[test]
fn a_rejection_by_a_guessed_organisation_is_confirmed_before_invalid() {
    let t = pats(61, 4);
    let (member, scoped, dead_near, dead_stated) = (&t[0], &t[1], &t[2], &t[3]);
    let mock = MockAdo::start(HashMap::from([
        (member.clone(), Behaviour::MemberOf("fabrikam")),
        (scoped.clone(), Behaviour::ScopedTo("fabrikam")),
        (dead_near.clone(), Behaviour::Bad),
        (dead_stated.clone(), Behaviour::Bad),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "member.md", near_org(member, ORG));
    write(d, "scoped.md", near_org(scoped, ORG));
    write(d, "dead_near.md", near_org(dead_near, ORG));
    write(d, "dead_stated.env", with_org(dead_stated));

    let out = scan_against(d, &mock.base, &["--verify", "--format", "json"]);
    assert_no_token_printed(&out, &t.iter().collect::<Vec<_>>());
    let found = verifications(&out);
    let member_v = only(&found, "member.md");
    assert_eq!(member_v["status"], "valid", "{member_v}");
    assert!(member_v["identity"].as_str().unwrap().contains(ACCOUNT));
    for file in ["scoped.md", "dead_near.md"] {
        let v = only(&found, file);
        assert_eq!(v["status"], "unknown", "{file}: {v}");
        let reason = v["reason"].as_str().unwrap();
        assert!(
            reason.contains("guessed") && reason.contains(ORG),
            "{reason}"
        );
    }
    assert_eq!(only(&found, "dead_stated.env")["status"], "invalid");

    let paths = |tok: &String| -> Vec<String> {
        check_requests(&mock, tok)
            .into_iter()
            .map(|r| r.path)
            .collect()
    };
    let confirmed = vec![
        format!("/{ORG}/_apis/connectionData"),
        PROFILE_PATH.to_string(),
    ];
    for tok in [member, scoped, dead_near] {
        assert_eq!(paths(tok), confirmed);
    }
    assert_eq!(
        paths(dead_stated),
        vec![format!("/{ORG}/_apis/connectionData")]
    );

    // The live token keeps `--fail-on valid` failing.
    let only_member = tempfile::tempdir().unwrap();
    write(only_member.path(), "a.md", near_org(member, ORG));
    let out = scan_against(
        only_member.path(),
        &mock.base,
        &["--verify", "--fail-on", "valid"],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn retry_after_is_capped_and_the_deadline_ends_verification() {
    let t = pats(71, 5);
    let slow = Behaviour::Slow(Duration::from_secs(8));
    let mut behaviours = HashMap::from([(t[0].clone(), Behaviour::RateLimitedFor(3600))]);
    behaviours.extend(t[1..].iter().map(|k| (k.clone(), slow)));
    let mock = MockAdo::start(behaviours);
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.env", "b.env", "c.env", "d.env", "e.env"];
    for (name, tok) in names.iter().zip(&t) {
        write(dir.path(), name, with_org(tok));
    }
    let started = Instant::now();
    let out = scan_against(
        dir.path(),
        &mock.base,
        &[
            "--verify",
            "--verify-jobs",
            "1",
            "--verify-timeout",
            "3",
            "--verify-deadline",
            "4",
            "--format",
            "json",
        ],
    );
    let elapsed = started.elapsed();
    let found = verifications(&out);
    // Without the deadline: four 3 s timeouts one after another (and 3600 s of waiting); the
    // margin above 4 s is for starting and scanning on a busy machine.
    assert!(elapsed < Duration::from_secs(9), "took {elapsed:?}");
    let a = only(&found, "a.env");
    assert_eq!(a["status"], "unknown");
    assert!(a["reason"].as_str().unwrap().contains("3600"), "{a}");
    assert_eq!(
        mock.requests_for(&t[0]).len(),
        1,
        "a 3600 s wait is not waited for"
    );
    for (file, tok) in [("d.env", &t[3]), ("e.env", &t[4])] {
        let v = only(&found, file);
        assert_eq!(v["status"], "unknown");
        assert!(v["reason"].as_str().unwrap().starts_with("deadline"), "{v}");
        assert!(
            mock.requests_for(tok).is_empty(),
            "no request after the deadline"
        );
    }
    for file in ["b.env", "c.env"] {
        assert_eq!(only(&found, file)["status"], "unknown");
    }
    assert_no_token_printed(&out, &t.iter().collect::<Vec<_>>());
}
