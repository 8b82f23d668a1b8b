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
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why an output file was not written; the I/O error, when there is one, is its source.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot open {}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("{} became a regular file while it was being opened; not written", .0.display())]
    BecameFile(PathBuf),
    #[error("cannot append to {} (a symbolic link is not followed)", path.display())]
    Append { path: PathBuf, source: io::Error },
    #[error("{} has no file name", .0.display())]
    NoFileName(PathBuf),
    #[error("cannot create a temporary file in {}", dir.display())]
    Temporary { dir: PathBuf, source: io::Error },
    #[error("cannot set the mode of {}", path.display())]
    Mode { path: PathBuf, source: io::Error },
    #[error("cannot write {}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot inspect {}", path.display())]
    Inspect { path: PathBuf, source: io::Error },
    #[error("{} is a directory", .0.display())]
    Directory(PathBuf),
}

type Result<T> = std::result::Result<T, OutputError>;

/// The error for `path` from an I/O error: `make(path, error)`.
fn at<T>(r: io::Result<T>, path: &Path, make: fn(PathBuf, io::Error) -> OutputError) -> Result<T> {
    r.map_err(|e| make(path.to_path_buf(), e))
}

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
            let mut f = at(
                OpenOptions::new().write(true).open(path),
                path,
                |path, source| OutputError::Open { path, source },
            )?;
            if f.metadata().is_ok_and(|m| m.is_file()) {
                return Err(OutputError::BecameFile(path.to_path_buf()));
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
            let mut f = at(opts.open(path), path, |path, source| OutputError::Append {
                path,
                source,
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
        return Err(OutputError::NoFileName(path.to_path_buf()));
    }
    let tmp = at(TempFile::new_in(dir), dir, |dir, source| {
        OutputError::Temporary { dir, source }
    })?;
    let mut f: &File = tmp.as_file();
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        let set = f.set_permissions(std::fs::Permissions::from_mode(mode));
        at(set, tmp.path(), |path, source| OutputError::Mode {
            path,
            source,
        })?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    at(written, tmp.path(), write_error)?;
    at(tmp.persist(path), path, write_error)
}

fn write_error(path: PathBuf, source: io::Error) -> OutputError {
    OutputError::Write { path, source }
}

fn write_stream(w: &mut impl Write, path: &Path, bytes: &[u8]) -> Result<()> {
    at(
        w.write_all(bytes).and_then(|_| w.flush()),
        path,
        write_error,
    )
}

fn classify(path: &Path) -> Result<Target> {
    if let Some(fd) = descriptor(path) {
        return Ok(Target::Descriptor(fd));
    }
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Replace),
        Err(source) => {
            return Err(OutputError::Inspect {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if link.is_dir() {
        return Err(OutputError::Directory(path.to_path_buf()));
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
