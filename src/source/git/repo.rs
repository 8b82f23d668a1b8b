//! Opening a repository, and what reports say about it: its provenance and the Azure DevOps
//! organisation its remotes name; the errors that stop a git scan.

use crate::finding::RepositoryInfo;
use git2::{Repository, RepositoryOpenFlags};
use std::path::Path;

/// A problem that stops a git scan (as opposed to one unreadable object among many).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository{}; give the path of a work tree or a bare repository, or run inside one", if *.searched { " (nor is any parent directory)" } else { "" })]
    NotARepository { path: String, searched: bool },
    #[error("{path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot resolve '{name}' to a commit: {message}")]
    Ref { name: String, message: String },
    #[error("bad range '{spec}': {message}")]
    Range { spec: String, message: String },
    #[error(
        "nothing in {repo} could be read ({unreadable} unreadable references or objects, \
         named above); a history that cannot be read is not reported clean"
    )]
    NothingReadable { repo: String, unreadable: u64 },
    #[error("cannot {what} in {repo}: {message}")]
    Repo {
        what: &'static str,
        repo: String,
        message: String,
    },
}

/// Open the repository at `path` (a work tree, a subdirectory of one when `search` is set, or
/// a bare repository).
pub fn open_repository(path: &Path, search: bool) -> Result<Repository, GitError> {
    let flags = if search {
        RepositoryOpenFlags::empty()
    } else {
        RepositoryOpenFlags::NO_SEARCH
    };
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(GitError::Open {
            path: shown,
            message: "No such file or directory".into(),
        });
    }
    Repository::open_ext(path, flags, std::iter::empty::<&std::ffi::OsStr>()).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            GitError::NotARepository {
                path: shown,
                searched: search,
            }
        } else {
            GitError::Open {
                path: shown,
                message: e.message().to_string(),
            }
        }
    })
}

/// The repository as reports describe it: its `origin` URL (else its absolute path), HEAD's
/// commit and branch. Reporters strip credentials from the URL.
pub fn repository_info(repo: &Repository) -> RepositoryInfo {
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string));
    let local = repo.workdir().unwrap_or(repo.path());
    let local = std::fs::canonicalize(local).unwrap_or_else(|_| local.to_path_buf());
    repository_info_at(repo, origin.unwrap_or_else(|| local.display().to_string()))
}

/// The repository as reports describe it, under a URL the caller chose: HEAD's commit and branch.
pub fn repository_info_at(repo: &Repository, uri: String) -> RepositoryInfo {
    let head = repo.head().ok();
    RepositoryInfo {
        uri,
        revision: head
            .as_ref()
            .and_then(|h| h.peel_to_commit().ok())
            .map(|c| c.id().to_string()),
        branch: head
            .as_ref()
            .filter(|h| h.is_branch())
            .and_then(|h| h.shorthand().ok().map(str::to_string)),
    }
}

/// The Azure DevOps organisation of the repository's remotes: `origin`'s if it is an Azure
/// DevOps URL, else the first other remote's (by name) that is.
pub fn remote_org(repo: &Repository) -> Option<String> {
    let url_of = |name: &str| {
        repo.find_remote(name)
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
    };
    let mut names: Vec<String> = repo
        .remotes()
        .map(|r| r.iter().flatten().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    names.sort_by_key(|n| (n != "origin", n.clone()));
    names
        .iter()
        .filter_map(|n| url_of(n))
        .find_map(|u| crate::detect::org::org_of_remote(&u))
}

/// [`remote_org`] of the repository holding `path`, if any (for `patrol scan`).
pub fn remote_org_of_path(path: &Path) -> Option<String> {
    // Opening a repository starts libgit2 and with it OpenSSL, which loads the system's CA
    // bundle: half the time of a scan of a small tree. Where neither `path` nor a folder above
    // it holds `.git` or is a bare repository, libgit2's search would find nothing.
    if let Ok(real) = path.canonicalize()
        && !real.ancestors().any(|dir| {
            dir.join(".git").exists()
                || (dir.join("HEAD").is_file() && dir.join("objects").is_dir())
        })
    {
        return None;
    }
    open_repository(path, true)
        .ok()
        .and_then(|r| remote_org(&r))
}

/// Process-wide libgit2 settings for scanning; call once, before any repository is opened.
///
/// Object ids are not re-verified on every read: that re-hashes each blob with collision-
/// detecting SHA-1, a quarter of a history scan's time, and git itself only does it in `fsck`
/// (zlib's checksum still catches damaged data).
///
/// libgit2's object cache is off: each worker reads trees along a different stretch of history,
/// so the cache rarely hits, and on cargo's history it tripled peak memory (306 → 109 MiB for
/// enumeration) while costing slightly more CPU than re-reading.
pub fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
}
