//! Bare mirror clones in the cache: the first run clones every ref (branches, tags and
//! pull-request refs) over HTTPS with libgit2, later runs fetch into the same mirror (pruning
//! refs deleted upstream), libgit2 speaking the protocol over [`super::transport`]. The token
//! travels only in an `Authorization` header of that fetch, never in a URL or the mirror's
//! configuration; redirects are not followed, and user and system git configuration is not
//! read (an `insteadOf` there could send the fetch elsewhere).
//! Not for scanning: the history engine reads the mirror afterwards.

use super::target::Token;
use super::transport;
use git2::{AutotagOption, FetchOptions, FetchPrune, RemoteCallbacks, RemoteRedirect, Repository};
use std::path::Path;
use std::sync::Once;

/// Every ref, as `git clone --mirror` takes them.
const MIRROR_REFSPEC: &str = "+refs/*:refs/*";

/// Stop libgit2 from reading git configuration outside the mirror and route its HTTP through
/// [`super::transport`], once per process, before any repository is opened.
pub fn isolate_libgit2() -> Result<(), MirrorError> {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for level in [
            git2::ConfigLevel::System,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::Global,
            git2::ConfigLevel::ProgramData,
        ] {
            // SAFETY: called once, before any repository is opened by this command, with no
            // other thread using libgit2 yet.
            let _ = unsafe { git2::opts::set_search_path(level, "") };
        }
    });
    transport::register().map_err(|e| MirrorError::Transport(e.message().to_string()))
}

/// Why a mirror was not brought up to date. Texts are libgit2's messages, scrubbed of the token.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("cannot open the mirror {}: {message}", dir.display())]
    Open {
        dir: std::path::PathBuf,
        message: String,
    },
    #[error("bad clone URL: {0}")]
    BadUrl(String),
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Transport(String),
    #[error("fetch failed: {0}")]
    Fetch(String),
}

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    Cloned,
    Fetched,
}

/// Bring the mirror at `dir` up to date with `url` (cloning it if absent). `default_branch`
/// (e.g. `refs/heads/main`) becomes HEAD when the mirror has it. Errors are scrubbed of the
/// token.
pub fn sync(
    dir: &Path,
    url: &str,
    token: &Token,
    default_branch: Option<&str>,
) -> Result<(Repository, Synced), MirrorError> {
    let existing = dir.join("HEAD").is_file();
    let repo = if existing {
        Repository::open_bare(dir)
    } else {
        Repository::init_bare(dir)
    }
    .map_err(|e| MirrorError::Open {
        dir: dir.to_path_buf(),
        message: e.message().to_string(),
    })?;
    let mut callbacks = RemoteCallbacks::new();
    // Returning false aborts the transfer: Ctrl-C stops a long clone.
    callbacks.transfer_progress(|_| !crate::interrupt::interrupted());
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(callbacks)
        .follow_redirects(RemoteRedirect::None)
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::None);
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| MirrorError::BadUrl(e.message().to_string()))?;
    let https = url.starts_with("https://");
    transport::with_auth(token.header(), https, || {
        remote.fetch(&[MIRROR_REFSPEC], Some(&mut opts), None)
    })
    .and_then(|fetched| fetched)
    .map_err(|e| {
        if crate::interrupt::interrupted() {
            MirrorError::Interrupted
        } else {
            MirrorError::Fetch(token.scrub(e.message()))
        }
    })?;
    drop(remote);
    if let Some(branch) = default_branch
        && repo.find_reference(branch).is_ok()
    {
        let _ = repo.set_head(branch);
    }
    Ok((
        repo,
        if existing {
            Synced::Fetched
        } else {
            Synced::Cloned
        },
    ))
}
