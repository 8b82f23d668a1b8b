//! The smart HTTP transport mirrors are fetched through. libgit2 speaks the git protocol;
//! this module carries its requests with ureq over rustls, the HTTP client of the REST calls,
//! so libgit2 is built without a TLS library of its own. With OpenSSL linked, libgit2 loaded
//! the system's CA bundle whenever it started — some 50 ms of every command that opens a
//! repository, a pre-commit hook's included — though only this fetch ever needs TLS.
//!
//! The rules of a fetch: the `Authorization` header goes with each of its requests and
//! nowhere else (it is handed over per thread, for the duration of one [`with_auth`] call, so
//! no other libgit2 use can pick it up); a redirect is an error, never followed; only fetching
//! is offered (a push is refused); an answer must carry git's content type, so an HTML sign-in
//! page is an error rather than a protocol confusion; a stalled server times out per read.

use crate::verify::client::describe_failure;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::OnceLock;
use std::time::Duration;
use ureq::http::{HeaderValue, header};

/// Connecting gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Waiting for an answer, or for the next bytes of one, gives up after this long (a server
/// may think a while before it starts sending a large pack).
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

thread_local! {
    /// The fetch this thread is making: its client and `Authorization` header.
    static FETCH: RefCell<Option<Fetch>> = const { RefCell::new(None) };
}

/// What one fetch's requests carry.
#[derive(Clone)]
struct Fetch {
    agent: ureq::Agent,
    auth: HeaderValue,
}

/// Route libgit2's `http://` and `https://` through this module, once per process. Must run
/// before any fetch (it does, from the `ado` command's start). Without it libgit2 has no
/// transport for either scheme, so a failure here stops the command.
pub fn register() -> Result<(), git2::Error> {
    /// Why registering failed, if it did.
    static FAILURE: OnceLock<Option<String>> = OnceLock::new();
    let failure = FAILURE.get_or_init(|| {
        ["https", "http"].into_iter().find_map(|scheme| {
            // SAFETY: run once, before any remote is created, so no transport is being looked
            // up concurrently.
            let registered = unsafe { git2::transport::register(scheme, smart) };
            registered
                .err()
                .map(|e| format!("cannot register the {scheme} transport: {}", e.message()))
        })
    });
    match failure {
        Some(why) => Err(git2::Error::from_str(why)),
        None => Ok(()),
    }
}

/// Run `f` (a libgit2 fetch) with `auth` as the `Authorization` of its requests; `https` says
/// whether the URL is TLS (a plain-HTTP URL is only ever the loopback test override, and a
/// proxy from the environment is used only for TLS URLs).
pub fn with_auth<T>(auth: &str, https: bool, f: impl FnOnce() -> T) -> Result<T, git2::Error> {
    let mut auth = HeaderValue::from_str(auth)
        .map_err(|_| git2::Error::from_str("the token is not a valid header value"))?;
    auth.set_sensitive(true);
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(IDLE_TIMEOUT))
        .timeout_per_read(Some(IDLE_TIMEOUT))
        .timeout_per_write(Some(IDLE_TIMEOUT))
        .https_only(https)
        .user_agent(format!("git/2.0 (patrol {})", env!("CARGO_PKG_VERSION")))
        .proxy(if https {
            ureq::Proxy::try_from_env()
        } else {
            None
        })
        .build();
    let fetch = Fetch {
        agent: config.into(),
        auth,
    };
    /// Clears the thread's fetch however `f` ends, a panic included.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            FETCH.with(|f| f.borrow_mut().take());
        }
    }
    FETCH.with(|slot| *slot.borrow_mut() = Some(fetch));
    let _clear = Clear;
    Ok(f())
}

/// The transport factory libgit2 calls for a remote. Outside [`with_auth`] it still answers
/// (git2 drops a factory's error message), but with a transport that refuses every request.
fn smart(remote: &git2::Remote<'_>) -> Result<Transport, git2::Error> {
    let fetch = FETCH.with(|f| f.borrow().clone());
    // Stateless RPC: every round of negotiation is a request of its own.
    Transport::smart(remote, true, Http(fetch))
}

struct Http(Option<Fetch>);

impl SmartSubtransport for Http {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let Some(fetch) = &self.0 else {
            return Err(git2::Error::from_str("HTTP is used only to fetch a mirror"));
        };
        let base = url.trim_end_matches('/');
        let (url, post) = match action {
            Service::UploadPackLs => (format!("{base}/info/refs?service=git-upload-pack"), false),
            Service::UploadPack => (format!("{base}/git-upload-pack"), true),
            Service::ReceivePackLs | Service::ReceivePack => {
                return Err(git2::Error::from_str("patrol never pushes"));
            }
        };
        Ok(Box::new(Exchange {
            fetch: fetch.clone(),
            url,
            post,
            request: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// One request and its answer: libgit2 writes the request body (for a POST), then reads the
/// answer, which is sent for on the first read.
struct Exchange {
    fetch: Fetch,
    url: String,
    post: bool,
    request: Vec<u8>,
    response: Option<ureq::BodyReader<'static>>,
}

impl Exchange {
    /// The content type a smart server answers this request with.
    fn expected_type(&self) -> &'static str {
        if self.post {
            "application/x-git-upload-pack-result"
        } else {
            "application/x-git-upload-pack-advertisement"
        }
    }

    fn send(&mut self) -> io::Result<ureq::BodyReader<'static>> {
        let agent = &self.fetch.agent;
        let answer = if self.post {
            agent
                .post(&self.url)
                .header(header::AUTHORIZATION, self.fetch.auth.clone())
                .header(
                    header::CONTENT_TYPE,
                    "application/x-git-upload-pack-request",
                )
                .header(header::ACCEPT, self.expected_type())
                .send(&self.request[..])
        } else {
            agent
                .get(&self.url)
                .header(header::AUTHORIZATION, self.fetch.auth.clone())
                .header(header::ACCEPT, "*/*")
                .call()
        }
        .map_err(|e| io::Error::other(describe_failure(&e, IDLE_TIMEOUT)))?;
        let status = answer.status().as_u16();
        if status != 200 {
            return Err(io::Error::other(refusal(status)));
        }
        let content_type = answer
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The media type decides; parameters (`; charset=…`) do not.
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case(self.expected_type()) {
            return Err(io::Error::other(format!(
                "not a smart git server: the answer is {:?}, not {}",
                content_type.chars().take(80).collect::<String>(),
                self.expected_type()
            )));
        }
        Ok(answer.into_body().into_reader())
    }
}

impl Read for Exchange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if crate::interrupt::interrupted() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        if self.response.is_none() {
            self.response = Some(self.send()?);
        }
        match self.response.as_mut() {
            Some(body) => body.read(buf),
            None => Ok(0),
        }
    }
}

impl Write for Exchange {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.response.is_some() {
            return Err(io::Error::other("a request written after its answer"));
        }
        self.request.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a status other than 200 means to a fetch.
fn refusal(status: u16) -> String {
    match status {
        300..=399 => format!("redirected (HTTP {status}); redirects are not followed"),
        401 | 403 => format!("HTTP {status}: the token was refused"),
        404 => "HTTP 404: no such repository (or the token cannot see it)".to_string(),
        _ => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_fetch_is_made_outside_with_auth() {
        register().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let mut remote = repo
            .remote_anonymous("http://127.0.0.1:9/o/p/_git/r")
            .unwrap();
        let err = remote.fetch(&["+refs/*:refs/*"], None, None).unwrap_err();
        assert!(err.message().contains("only to fetch a mirror"), "{err}");
        // Inside `with_auth` the transport is used (and here finds nothing listening), and
        // after it the thread holds no header any more.
        let inside = with_auth("Basic eA==", false, || {
            remote.fetch(&["+refs/*:refs/*"], None, None).unwrap_err()
        })
        .unwrap();
        assert!(inside.message().contains("connection failed"), "{inside}");
        assert!(FETCH.with(|f| f.borrow().is_none()));
    }

    #[test]
    fn statuses_say_what_went_wrong() {
        assert!(refusal(302).contains("redirects are not followed"));
        assert!(refusal(401).contains("HTTP 401"));
        assert_eq!(refusal(500), "HTTP 500");
    }
}
