//! Writing the files patrol produces (reports, baselines, the pre-commit hook) without
//! letting the scanned tree redirect the write.
//!
//! A regular file (or a missing path) is replaced atomically: the bytes go to a fresh
//! temporary file beside it (random name, created exclusively, see [`TempFile`]) that is then
//! renamed over the target, so a reader never sees a partial file and a symbolic link at the
//! target is replaced, never written through. Anything else a user names on purpose — a FIFO,
//! a terminal, `/dev/null`, `/dev/stdout` — is written in place: renaming over it would
//! destroy it.
//!
//! It does not decide where files go; callers pass the path.

use crate::interrupt::TempFile;
use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How a path is written.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// Missing, a regular file, or a link to be replaced: temporary file and rename.
    Replace,
    /// Our own standard output or error, named through `/dev/stdout`, `/dev/fd/1` and the like.
    Descriptor(i32),
    /// A FIFO, character device or socket (or a link to one): opened and written in place.
    InPlace,
}

/// Write `bytes` to `path`: atomically for regular files (mode 0600 for a new file), in
/// place for FIFOs and devices. On an error or Ctrl-C no partial regular file is left.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    match classify(path)? {
        Target::Replace => replace(path, bytes, None),
        Target::Descriptor(1) => write_stream(&mut std::io::stdout().lock(), path, bytes),
        Target::Descriptor(_) => write_stream(&mut std::io::stderr().lock(), path, bytes),
        Target::InPlace => {
            // No create, no truncate: the path exists and is not a regular file.
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            if f.metadata().is_ok_and(|m| m.is_file()) {
                bail!(
                    "{} became a regular file while it was being opened; not written",
                    path.display()
                );
            }
            write_stream(&mut f, path, bytes)
        }
    }
}

/// Append `bytes` to `path` (a summary file that CI steps add to, such as
/// `$GITHUB_STEP_SUMMARY`): a missing path is created (mode 0600), a regular file is appended
/// to without following a link at `path` — a link is refused, not written through —, FIFOs and
/// devices are written in place.
pub fn append_output(path: &Path, bytes: &[u8]) -> Result<()> {
    match classify(path)? {
        Target::Replace => {
            let mut opts = OpenOptions::new();
            opts.append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            let mut f = opts.open(path).with_context(|| {
                format!(
                    "cannot append to {} (a symbolic link is not followed)",
                    path.display()
                )
            })?;
            write_stream(&mut f, path, bytes)
        }
        // Descriptors and FIFOs: appending and writing are the same.
        _ => write_output(path, bytes),
    }
}

/// Replace `path` with a new file holding `bytes`, atomically, never following a link at
/// `path`. `mode` sets the permission bits (default 0600).
pub fn replace(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if path.file_name().is_none() {
        bail!("{} has no file name", path.display());
    }
    let tmp = TempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut f: &File = tmp.as_file();
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn write_stream(w: &mut impl Write, path: &Path, bytes: &[u8]) -> Result<()> {
    w.write_all(bytes)
        .and_then(|_| w.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn classify(path: &Path) -> Result<Target> {
    if let Some(fd) = descriptor(path) {
        return Ok(Target::Descriptor(fd));
    }
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Replace),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    };
    if link.is_dir() {
        bail!("{} is a directory", path.display());
    }
    if link.is_file() {
        return Ok(Target::Replace);
    }
    // A link or a special file: look at what it leads to. A link to a regular file, a
    // directory, a block device or nothing is replaced (a link planted in a scanned tree
    // must not redirect a report onto a disk); FIFOs, terminals and sockets are written.
    match std::fs::metadata(path) {
        Ok(m) if is_stream(&m.file_type()) => Ok(Target::InPlace),
        Ok(_) if !link.file_type().is_symlink() => Ok(Target::InPlace),
        _ => Ok(Target::Replace),
    }
}

#[cfg(unix)]
fn is_stream(t: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    t.is_fifo() || t.is_char_device() || t.is_socket()
}

#[cfg(not(unix))]
fn is_stream(_: &std::fs::FileType) -> bool {
    false
}

/// Standard output or error named by path (`/dev/stdout`, `/dev/fd/2`, `/proc/self/fd/1`,
/// or a link to one of those): written through our own descriptor, so a shell's `>>` or a
/// pipe behaves as expected.
fn descriptor(path: &Path) -> Option<i32> {
    let mut p = PathBuf::from(path);
    for _ in 0..8 {
        let fd = match p.to_str()? {
            "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
            "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
            _ => None,
        };
        if fd.is_some() {
            return fd;
        }
        let next = std::fs::read_link(&p).ok()?;
        p = match p.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_streams_by_name() {
        assert_eq!(descriptor(Path::new("/dev/stdout")), Some(1));
        assert_eq!(descriptor(Path::new("/dev/fd/2")), Some(2));
        assert_eq!(descriptor(Path::new("report.json")), None);
    }
}
