//! The configuration's `exclude` globs (gitignore syntax), matched against repository-relative
//! paths by the sources that walk git trees (history, the staged index) **before** anything
//! under an excluded path is read: an excluded directory is not descended into, an excluded
//! blob is not read, and a path that is excluded is treated as absent, so a secret moved out of
//! an excluded directory is news where it lands.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::Path;

/// Compiled `exclude` globs; [`Excludes::default`] excludes nothing.
#[derive(Debug, Clone, Default)]
pub struct Excludes {
    globs: Option<Gitignore>,
}

/// An `exclude` entry that is not a gitignore-style glob.
#[derive(Debug, thiserror::Error)]
#[error("bad exclude pattern '{pattern}': {message}")]
pub struct ExcludeError {
    pub pattern: String,
    pub message: String,
}

impl Excludes {
    /// Compile `globs` (gitignore lines, relative to the top of the repository).
    pub fn new(globs: &[String]) -> Result<Self, ExcludeError> {
        if globs.is_empty() {
            return Ok(Excludes::default());
        }
        let err = |pattern: &str, e: ignore::Error| ExcludeError {
            pattern: pattern.to_string(),
            message: e.to_string(),
        };
        let mut builder = GitignoreBuilder::new("");
        for g in globs {
            builder.add_line(None, g).map_err(|e| err(g, e))?;
        }
        let globs = builder.build().map_err(|e| err(&globs.join(", "), e))?;
        Ok(Excludes { globs: Some(globs) })
    }

    /// Whether nothing is excluded (walks then need no paths to decide).
    pub fn is_empty(&self) -> bool {
        self.globs.is_none()
    }

    /// Whether the entry at `path` (`/`-separated, relative to the top) is excluded. Callers
    /// walk from the top and do not descend into an excluded directory, so only `path` itself
    /// is matched, not its parents.
    pub fn excludes(&self, path: &[u8], is_dir: bool) -> bool {
        let Some(globs) = &self.globs else {
            return false;
        };
        globs.matched(bytes_path(path), is_dir).is_ignore()
    }

    /// [`Excludes::excludes`] for a path met without its parents' verdicts (a finding's path).
    pub fn excludes_file(&self, path: &str) -> bool {
        let Some(globs) = &self.globs else {
            return false;
        };
        globs
            .matched_path_or_any_parents(Path::new(path), false)
            .is_ignore()
    }
}

#[cfg(unix)]
fn bytes_path(path: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(path))
}

#[cfg(not(unix))]
fn bytes_path(path: &[u8]) -> std::borrow::Cow<'_, Path> {
    std::borrow::Cow::Owned(String::from_utf8_lossy(path).into_owned().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(globs: &[&str]) -> Excludes {
        Excludes::new(&globs.iter().map(|g| g.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn gitignore_semantics_on_repository_paths() {
        let e = ex(&["fixtures/", "*.lock", "/docs/*.md"]);
        assert!(e.excludes(b"fixtures", true));
        assert!(
            !e.excludes(b"fixtures", false),
            "`fixtures/` names directories only"
        );
        assert!(e.excludes(b"a/b/Cargo.lock", false));
        assert!(e.excludes(b"docs/x.md", false));
        assert!(!e.excludes(b"old/docs/x.md", false), "anchored at the top");
        assert!(!e.excludes(b"src/main.rs", false));
        assert!(e.excludes_file("fixtures/deep/a.env"));
        assert!(!Excludes::default().excludes(b"anything", false));
        assert!(Excludes::default().is_empty() && !e.is_empty());
    }

    #[test]
    fn a_bad_glob_is_an_error_naming_it() {
        let err = Excludes::new(&["a{b".to_string()]).unwrap_err();
        assert!(err.to_string().contains("a{b"), "{err}");
    }
}
