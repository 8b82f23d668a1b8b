//! The mock Azure DevOps server: a REST API (projects and repositories with continuation-token
//! paging, a 429 with Retry-After and a transient 500 served once each, pipeline definitions
//! and variable groups, 401 for any other `Authorization` header) and git repositories over
//! real smart HTTP, served by `git http-backend` run as a CGI program. Listens on 127.0.0.1
//! only and logs every request. Used by tests/ado.rs and by examples/mock_ado.rs (benchmarks).

#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const ORG: &str = "contoso";

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub auth: Option<String>,
}

/// Shared state of a running mock.
pub struct State {
    /// The accepted `Authorization` header value.
    pub auth: Mutex<String>,
    pub log: Mutex<Vec<Seen>>,
    /// Folder holding `{project}/{repo}.git` bare repositories.
    pub git_root: PathBuf,
    /// The API's answers: projects and repositories (paged by the mock), and per project id
    /// the definitions and variable groups.
    pub projects: Vec<Value>,
    pub repos: Mutex<Vec<Value>>,
    pub definitions: Vec<(String, Value)>,
    pub groups: Vec<(String, Value)>,
    /// Repositories whose git requests answer 500.
    pub broken_git: Vec<String>,
    /// A repository whose git requests answer a redirect to the foreign listener.
    pub redirected_git: Mutex<Option<String>>,
    /// A repository whose git requests answer 200 with an HTML page (a sign-in page).
    pub html_git: Mutex<Option<String>>,
    /// Where that redirect points (set by [`Mock::start`]).
    pub foreign_base: Mutex<String>,
    /// Git requests for this repository wait until `hold` is cleared.
    pub held_repo: Mutex<Option<String>>,
    pub hold: AtomicBool,
    /// Faults served once: a 429 on the first repositories request, a 500 on the second
    /// projects page.
    pub throttled: AtomicBool,
    pub failed_once: AtomicBool,
}

/// A running mock server.
pub struct Mock {
    pub state: Arc<State>,
    pub base: String,
    /// Connections another loopback listener received (a host the token must never reach).
    pub foreign_hits: Arc<AtomicUsize>,
    pub foreign_base: String,
}

impl Mock {
    pub fn start(state: State) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(state);
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &st);
                });
            }
        });
        let foreign = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let foreign_base = format!("http://{}", foreign.local_addr().unwrap());
        *state.foreign_base.lock().unwrap() = foreign_base.clone();
        let foreign_hits = Arc::new(AtomicUsize::new(0));
        let hits = foreign_hits.clone();
        std::thread::spawn(move || {
            for conn in foreign.incoming().flatten() {
                hits.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Mock {
            state,
            base,
            foreign_hits,
            foreign_base,
        }
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.log.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, st: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut out = conn;
    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let n: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut b = vec![0; n];
        reader.read_exact(&mut b)?;
        b
    };
    let auth = header("authorization");
    st.log.lock().unwrap().push(Seen {
        method: method.clone(),
        target: target.clone(),
        auth: auth.clone(),
    });
    if auth.as_deref() != Some(st.auth.lock().unwrap().as_str()) {
        return respond(
            &mut out,
            "401 Unauthorized",
            &[("WWW-Authenticate", "Basic realm=\"mock\"")],
            b"",
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let Some(rest) = path.strip_prefix(&format!("/{ORG}/")) else {
        return respond(&mut out, "404 Not Found", &[], b"");
    };
    if let Some((project, tail)) = rest.split_once("/_git/") {
        let (repo, suffix) = tail.split_once('/').unwrap_or((tail, ""));
        if st.broken_git.iter().any(|b| b == repo) {
            return respond(&mut out, "500 Internal Server Error", &[], b"");
        }
        if st.html_git.lock().unwrap().as_deref() == Some(repo) {
            let page = b"<html><body>Sign in</body></html>";
            return respond(&mut out, "200 OK", &[("Content-Type", "text/html")], page);
        }
        if st.redirected_git.lock().unwrap().as_deref() == Some(repo) {
            let to = format!("{}{target}", st.foreign_base.lock().unwrap());
            return respond(&mut out, "302 Found", &[("Location", to.as_str())], b"");
        }
        while st.hold.load(Ordering::SeqCst)
            && st.held_repo.lock().unwrap().as_deref() == Some(repo)
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let path_info = format!("/{project}/{repo}.git/{suffix}");
        return cgi(&mut out, st, &method, &path_info, query, &headers, &body);
    }
    let api = |v: Value| serde_json::to_vec(&v).unwrap();
    match rest {
        "_apis/projects" => {
            let page2 = query.contains("continuationToken=p2");
            if page2 && !st.failed_once.swap(true, Ordering::SeqCst) {
                return respond(&mut out, "500 Internal Server Error", &[], b"");
            }
            respond_page(&mut out, &st.projects, page2, 2, "p2")
        }
        "_apis/git/repositories" => {
            if !st.throttled.swap(true, Ordering::SeqCst) {
                return respond(
                    &mut out,
                    "429 Too Many Requests",
                    &[("Retry-After", "1")],
                    b"",
                );
            }
            let page2 = query.contains("continuationToken=r2");
            let repos = st.repos.lock().unwrap().clone();
            respond_page(&mut out, &repos, page2, 4, "r2")
        }
        _ => {
            let (project, endpoint) = rest.split_once("/_apis/").unwrap_or(("", ""));
            let table = match endpoint {
                "build/definitions" => &st.definitions,
                "distributedtask/variablegroups" => &st.groups,
                _ => return respond(&mut out, "404 Not Found", &[], b""),
            };
            let items: Vec<Value> = table
                .iter()
                .filter(|(p, _)| p == project)
                .map(|(_, v)| v.clone())
                .collect();
            respond(
                &mut out,
                "200 OK",
                &[],
                &api(json!({"count": items.len(), "value": items})),
            )
        }
    }
}

/// Answer with one page of `all` and, unless it is the last, the token of the next.
fn respond_page(
    out: &mut TcpStream,
    all: &[Value],
    second: bool,
    size: usize,
    token: &str,
) -> std::io::Result<()> {
    let (items, next) = page(all, second, size, token);
    let hdr: Vec<(&str, &str)> = next
        .iter()
        .map(|t| ("x-ms-continuationtoken", *t))
        .collect();
    let body = serde_json::to_vec(&json!({"count": items.len(), "value": items})).unwrap();
    respond(out, "200 OK", &hdr, &body)
}

/// First page (`size` items, with a continuation token) or the rest.
fn page<'a>(
    all: &[Value],
    second: bool,
    size: usize,
    token: &'a str,
) -> (Vec<Value>, Option<&'a str>) {
    if second {
        (all.iter().skip(size).cloned().collect(), None)
    } else if all.len() > size {
        (all[..size].to_vec(), Some(token))
    } else {
        (all.to_vec(), None)
    }
}

fn read_chunked(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size)?;
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk)?;
        if n == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// Run `git http-backend` as CGI for one request and relay its answer.
fn cgi(
    out: &mut TcpStream,
    st: &State,
    method: &str,
    path_info: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &st.git_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = get("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(enc) = get("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", enc);
    }
    if let Some(p) = get("git-protocol") {
        cmd.env("GIT_PROTOCOL", p);
    }
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let body = body.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut raw = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut raw)?;
    let _ = writer.join();
    let _ = child.wait();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, sep)) = split else {
        return respond(out, "500 Internal Server Error", &[], b"");
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut status = "200 OK".to_string();
    let mut hdrs = Vec::new();
    for l in head.lines() {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("status") {
                status = v.trim().to_string();
            } else {
                hdrs.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    let hdr_refs: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    respond(out, &status, &hdr_refs, &raw[end + sep..])
}

/// `Basic base64(":" + token)`.
pub fn basic(token: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{token}"))
    )
}
