//! Filesystem source: a parallel walk (the `ignore` crate, as in ripgrep) that reads each
//! regular file once and scans it on the walking thread.

use crate::detect::Matcher;
use crate::finding::{Finding, Summary};
use crate::scan::{Location, ScanOptions, scan_blob};
pub use crate::util::{human_bytes, io_reason};
use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub no_ignore: bool,
    pub follow_symlinks: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Globs (gitignore syntax) of paths not to scan.
    pub exclude: Vec<String>,
}

/// Live counters of a walk; a progress line may read the public ones while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub findings: AtomicU64,
    large: AtomicU64,
    binary: AtomicU64,
    other: AtomicU64,
    unreadable: AtomicU64,
    suppressed: AtomicU64,
    archive_members: AtomicU64,
    archive_limits: AtomicU64,
    capped: AtomicU64,
}

/// A problem with the scan's own arguments, as opposed to one file among many.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {}", io_reason(error))]
    Root { path: String, error: std::io::Error },
    #[error("{path}: could not be read during the scan (see the warning above)")]
    RootLost { path: String },
    #[error("bad exclude pattern '{pattern}': {message}")]
    Exclude { pattern: String, message: String },
}

/// Scan files and directory trees; `warn` receives one line per skipped or unreadable file.
// Long: the walker's configuration (ignore files, links, threads, excludes) and its
// per-entry closure (interrupts, names, directories, files, roots that vanish) share the
// run's counters and results; each part is a few lines and in walk order.
pub fn scan_paths(
    roots: &[PathBuf],
    matcher: &Matcher,
    opts: &ScanOptions,
    walk: &WalkOptions,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<(Vec<Finding>, Summary), SourceError> {
    for root in roots {
        check_root(root).map_err(|error| SourceError::Root {
            path: root.display().to_string(),
            error,
        })?;
    }
    pause_for_test();
    // A root that stops being readable during the walk (removed, permissions changed): the
    // scan is not complete, so it must not end in a clean report.
    let lost_root: Mutex<Option<String>> = Mutex::new(None);
    let findings = Mutex::new(Vec::new());
    // With one directory root, paths are shown relative to it (as repository-relative paths).
    let base: Option<&Path> = match roots {
        [only] if only.is_dir() => Some(only.as_path()),
        _ => None,
    };
    for root in roots {
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(false)
            .ignore(!walk.no_ignore)
            .git_ignore(!walk.no_ignore)
            .git_global(!walk.no_ignore)
            .git_exclude(!walk.no_ignore)
            .parents(!walk.no_ignore)
            .require_git(false)
            .follow_links(walk.follow_symlinks)
            .threads(walk.threads)
            .filter_entry(|e| e.file_name() != ".git");
        if !walk.exclude.is_empty() {
            let dir = if root.is_dir() {
                root.as_path()
            } else {
                Path::new(".")
            };
            let mut ob = OverrideBuilder::new(dir);
            for g in &walk.exclude {
                ob.add(&format!("!{g}")).map_err(|e| SourceError::Exclude {
                    pattern: g.clone(),
                    message: e.to_string(),
                })?;
            }
            builder.overrides(ob.build().map_err(|e| SourceError::Exclude {
                pattern: walk.exclude.join(", "),
                message: e.to_string(),
            })?);
        }
        builder.build_parallel().run(|| {
            let mut buf = Vec::new();
            let findings = &findings;
            let lost_root = &lost_root;
            Box::new(move |entry| {
                if crate::interrupt::interrupted() {
                    return WalkState::Quit;
                }
                match entry {
                    Ok(entry) => {
                        scan_names(&entry, base, matcher, opts, counters, findings, warn);
                        match entry.file_type() {
                            Some(t) if t.is_file() => {}
                            Some(t) if t.is_dir() || t.is_symlink() => return WalkState::Continue,
                            // FIFOs, sockets, devices: never opened.
                            _ => {
                                counters.other.fetch_add(1, Ordering::Relaxed);
                                warn(format!(
                                    "skipped {}: not a regular file (FIFO, socket or device)",
                                    display_path(entry.path(), base)
                                ));
                                return WalkState::Continue;
                            }
                        }
                        let display = display_path(entry.path(), base);
                        let read = scan_file(
                            entry.path(),
                            &display,
                            &mut buf,
                            matcher,
                            opts,
                            walk,
                            counters,
                            findings,
                            warn,
                        );
                        if !read && entry.depth() == 0 {
                            *lost_root.lock().expect("no panics") = Some(display);
                        }
                    }
                    Err(err) => {
                        counters.unreadable.fetch_add(1, Ordering::Relaxed);
                        warn(format!("{err}"));
                        if err.depth() == Some(0) {
                            *lost_root.lock().expect("no panics") =
                                Some(root.display().to_string());
                        }
                    }
                }
                WalkState::Continue
            })
        });
    }
    if let Some(path) = lost_root.into_inner().expect("no panics") {
        return Err(SourceError::RootLost { path });
    }
    let mut findings = findings
        .into_inner()
        .expect("no panics while holding the lock");
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let summary = Summary {
        files_scanned: load(&counters.files),
        bytes_scanned: load(&counters.bytes),
        skipped_large: load(&counters.large),
        skipped_binary: load(&counters.binary),
        skipped_other: load(&counters.other),
        unreadable: load(&counters.unreadable),
        findings: findings.len() as u64,
        suppressed: load(&counters.suppressed),
        archive_members: load(&counters.archive_members),
        archive_limits: load(&counters.archive_limits),
        capped: load(&counters.capped),
        ..Summary::default()
    };
    Ok((findings, summary))
}

/// Scan what names an entry rather than its content: its own name (every path component is
/// some entry's name, so each is read once) and, for a symbolic link, the target it holds.
/// The link is read, never followed: its target may lie outside the tree or nowhere.
fn scan_names(
    entry: &ignore::DirEntry,
    base: Option<&Path>,
    matcher: &Matcher,
    opts: &ScanOptions,
    counters: &Counters,
    findings: &Mutex<Vec<Finding>>,
    warn: &(dyn Fn(String) + Sync),
) {
    let mut texts: Vec<(Vec<u8>, &'static str)> = Vec::new();
    // A root's name is the user's choice of argument, not the tree's content.
    if entry.depth() > 0 {
        texts.push((os_bytes(entry.file_name()), "file_name"));
    }
    if entry.path_is_symlink() {
        match std::fs::read_link(entry.path()) {
            Ok(target) => texts.push((os_bytes(target.as_os_str()), "link_target")),
            Err(e) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                warn(format!(
                    "cannot read the target of link {}: {}",
                    display_path(entry.path(), base),
                    io_reason(&e)
                ));
            }
        }
    }
    let mut found = Vec::new();
    for (text, origin) in texts {
        let path = || display_path(entry.path(), base);
        let (hits, suppressed) = crate::scan::name_findings(matcher, &text, origin, path, opts);
        counters.suppressed.fetch_add(suppressed, Ordering::Relaxed);
        found.extend(hits);
    }
    if !found.is_empty() {
        counters
            .findings
            .fetch_add(found.len() as u64, Ordering::Relaxed);
        findings
            .lock()
            .expect("no panics while holding the lock")
            .extend(found);
    }
}

/// The bytes of a file name or link target as the file system holds them.
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        s.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned().into_bytes()
    }
}

/// A root must be readable before the walk starts: a directory listable, a file openable.
/// Environment variable naming a FIFO at which a scan waits, after checking its roots and
/// before walking them, until a byte (or end of file) arrives: tests remove a root there to
/// prove a root lost during the scan fails the run, without racing the scan.
const PAUSE_VAR: &str = "PATROL_TEST_PAUSE_AFTER_ROOT_CHECK";

fn pause_for_test() {
    let Some(path) = std::env::var_os(PAUSE_VAR) else {
        return;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        // Anything but a FIFO is ignored: the variable can only make a scan wait for its caller.
        if std::fs::metadata(&path).is_ok_and(|m| m.file_type().is_fifo())
            && let Ok(mut f) = std::fs::File::open(&path)
        {
            let _ = f.read(&mut [0u8; 1]);
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn check_root(root: &Path) -> std::io::Result<()> {
    if std::fs::metadata(root)?.is_dir() {
        std::fs::read_dir(root).map(drop)
    } else {
        open_nonblocking(root).map(drop)
    }
}

/// Read and scan one file; false when it could not be read (warned about and counted).
// Long: the safe read of a hostile file, step by step (open without blocking or following,
// check it is still a regular file, read at most the size limit plus one), then its tally.
#[allow(clippy::too_many_arguments)]
fn scan_file(
    path: &Path,
    display: &str,
    buf: &mut Vec<u8>,
    matcher: &Matcher,
    opts: &ScanOptions,
    walk: &WalkOptions,
    counters: &Counters,
    findings: &Mutex<Vec<Finding>>,
    warn: &(dyn Fn(String) + Sync),
) -> bool {
    let unreadable = |e: std::io::Error| {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
        warn(format!("cannot read {display}: {e}"));
        false
    };
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) => return unreadable(e),
    };
    let len = match file.metadata() {
        // Replaced by a FIFO or device since the walk saw a regular file: not read.
        Ok(m) if !m.is_file() => {
            counters.other.fetch_add(1, Ordering::Relaxed);
            warn(format!("skipped {display}: no longer a regular file"));
            return true;
        }
        Ok(m) => m.len(),
        Err(e) => return unreadable(e),
    };
    if len > walk.max_file_size {
        counters.large.fetch_add(1, Ordering::Relaxed);
        warn(format!(
            "skipped {display}: {} is over --max-file-size {}",
            human_bytes(len),
            human_bytes(walk.max_file_size)
        ));
        return true;
    }
    buf.clear();
    // Read at most one byte past the limit: a file that grew while we looked is still bounded.
    if let Err(e) = file.take(walk.max_file_size + 1).read_to_end(buf) {
        return unreadable(e);
    }
    if buf.len() as u64 > walk.max_file_size {
        counters.large.fetch_add(1, Ordering::Relaxed);
        warn(format!(
            "skipped {display}: grew past --max-file-size while read"
        ));
        return true;
    }
    counters.files.fetch_add(1, Ordering::Relaxed);
    counters
        .bytes
        .fetch_add(buf.len() as u64, Ordering::Relaxed);
    let result = scan_blob(matcher, buf, opts);
    if result.binary_skipped {
        counters.binary.fetch_add(1, Ordering::Relaxed);
    }
    counters
        .suppressed
        .fetch_add(result.suppressed, Ordering::Relaxed);
    let tally = &result.archive;
    for (counter, n) in [
        (&counters.archive_members, tally.members),
        (&counters.archive_limits, tally.limits),
        (&counters.large, tally.large),
        (&counters.unreadable, tally.unreadable),
    ] {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    tally.warnings(display).for_each(warn);
    counters.capped.fetch_add(result.capped, Ordering::Relaxed);
    let found = result.findings_at(&Location::file(display), opts);
    if !found.is_empty() {
        counters
            .findings
            .fetch_add(found.len() as u64, Ordering::Relaxed);
        findings
            .lock()
            .expect("no panics while holding the lock")
            .extend(found);
    }
    true
}

/// Open for reading without blocking: opening a FIFO for reading blocks until a writer
/// comes, and a regular file the walk saw can have been replaced by one since. On regular
/// files the flag changes nothing.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    opts.open(path)
}

/// The root that findings' paths are relative to, as the user gave it, when a single directory
/// is scanned; `None` when paths are already as given (files, several roots) or when the root
/// is the current directory (`.`, `./`), which would add nothing but noise.
pub fn shown_root(roots: &[PathBuf]) -> Option<String> {
    let [only] = roots else { return None };
    if !only.is_dir() {
        return None;
    }
    let given = only.to_string_lossy().replace('\\', "/");
    let trimmed = given.trim_end_matches('/');
    match trimmed {
        "" => Some("/".to_string()),
        "." => None,
        t => Some(t.to_string()),
    }
}

/// The path as findings show it: relative to the single root directory, `/`-separated.
fn display_path(path: &Path, base: Option<&Path>) -> String {
    let rel = base.and_then(|b| below(path, b)).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// `path` relative to `base`, as [`Path::strip_prefix`] gives it. The walker's paths are `base`
/// joined with names, so comparing bytes settles nearly every case without splitting both
/// into components (which cost more than the rest of a small file's bookkeeping).
fn below<'p>(path: &'p Path, base: &Path) -> Option<&'p Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (bytes, prefix) = (path.as_os_str().as_bytes(), base.as_os_str().as_bytes());
        if let Some(rest) = bytes.strip_prefix(prefix)
            && (rest.is_empty() || rest[0] == b'/' || prefix.ends_with(b"/"))
        {
            let start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
            return Some(Path::new(std::ffi::OsStr::from_bytes(&rest[start..])));
        }
    }
    path.strip_prefix(base).ok()
}

/// Read all of stdin and scan it as one blob named `<stdin>`; `warn` receives archive
/// problems.
pub fn scan_stdin(
    matcher: &Matcher,
    opts: &ScanOptions,
    max: u64,
    warn: &dyn Fn(String),
) -> std::io::Result<(Vec<Finding>, Summary)> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(max + 1)
        .read_to_end(&mut buf)?;
    let mut summary = Summary::default();
    if buf.len() as u64 > max {
        summary.skipped_large = 1;
        return Ok((Vec::new(), summary));
    }
    summary.files_scanned = 1;
    summary.bytes_scanned = buf.len() as u64;
    let result = scan_blob(matcher, &buf, opts);
    result.add_to(&mut summary);
    result.archive.warnings("<stdin>").for_each(warn);
    Ok((
        result.findings_at(&Location::file("<stdin>"), opts),
        summary,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_agrees_with_strip_prefix() {
        let cases = [
            ("tree/a/b.txt", "tree"),
            ("tree/a/b.txt", "tree/"),
            ("tree//a", "tree"),
            ("tree", "tree"),
            ("treehouse/a", "tree"),
            ("./tree/a", "./tree"),
            ("./tree/a", "tree"),
            ("tree/./a", "tree/."),
            ("/abs/a", "/"),
            ("/abs/a", "/abs"),
            ("other/a", "tree"),
        ];
        for (path, base) in cases {
            let (path, base) = (Path::new(path), Path::new(base));
            assert_eq!(
                below(path, base),
                path.strip_prefix(base).ok(),
                "{path:?} below {base:?}"
            );
        }
    }
}
