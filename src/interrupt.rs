//! Ctrl-C (SIGINT) handling: stop promptly, leave no partial report, exit with
//! [`EXIT_INTERRUPTED`].
//!
//! The first Ctrl-C raises a flag that the walker checks between files ([`interrupted`]) and
//! the scan command checks before it reports; a watchdog ends the process after [`GRACE`] if
//! it is stuck elsewhere (a read from a terminal, a network request). A second Ctrl-C ends it
//! at once. Either way a report being written is removed, never renamed into place.
//!
//! It does not decide what a scan does with a partial result: a stopped scan reports nothing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit status after Ctrl-C: 128 + SIGINT, as shells report a process killed by it.
pub const EXIT_INTERRUPTED: i32 = 130;

/// How long after the first Ctrl-C the process may take to stop on its own.
pub const GRACE: Duration = Duration::from_secs(2);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The temporary report file being written, if any: removed when the process is ended.
static PENDING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Install the Ctrl-C handler (once, at start-up). Failure to install is not fatal: Ctrl-C
/// then ends the process the default way, and a temporary file may be left behind.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            exit_now();
        }
        std::thread::spawn(|| {
            std::thread::sleep(GRACE);
            exit_now();
        });
    });
}

/// Whether Ctrl-C was pressed: long-running loops stop starting new work when it is.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// End the process with [`EXIT_INTERRUPTED`] if Ctrl-C was pressed (call before reporting).
pub fn exit_if_interrupted() {
    if interrupted() {
        exit_now();
    }
}

fn exit_now() -> ! {
    // Holding the lock for good: no rename can complete after this point.
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tmp) = pending.as_ref() {
        let _ = std::fs::remove_file(tmp);
    }
    eprintln!("interrupted: scan stopped, no report written");
    std::process::exit(EXIT_INTERRUPTED);
}

/// A temporary file (unpredictable name, created with `O_EXCL`, mode 0600) that is removed
/// unless [`TempFile::persist`] renames it into place, including when Ctrl-C ends the process
/// while it is being written.
#[derive(Debug)]
pub struct TempFile {
    /// `None` only once persisted.
    file: Option<tempfile::NamedTempFile>,
}

impl TempFile {
    /// Create a new temporary file in `dir` and register it as the pending report. A link
    /// planted under a guessable name cannot redirect the write: the name is random and the
    /// file is created exclusively, never opened if something is already there.
    pub fn new_in(dir: &Path) -> std::io::Result<TempFile> {
        let file = tempfile::Builder::new()
            .prefix(".patrol-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(file.path().to_path_buf());
        Ok(TempFile { file: Some(file) })
    }

    fn inner(&self) -> &tempfile::NamedTempFile {
        self.file.as_ref().expect("not yet persisted")
    }

    pub fn path(&self) -> &Path {
        self.inner().path()
    }

    pub fn as_file(&self) -> &std::fs::File {
        self.inner().as_file()
    }

    /// Rename the file to `to` (replacing a link there, never writing through it), unless
    /// Ctrl-C was pressed (then the process ends, file removed).
    pub fn persist(mut self, to: &Path) -> std::io::Result<()> {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if interrupted() {
            drop(pending);
            exit_now();
        }
        *pending = None;
        let file = self.file.take().expect("persisted once");
        // On failure the temporary file comes back inside the error and is removed with it.
        file.persist(to).map(drop).map_err(|e| e.error)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = &self.file
            && pending.as_deref() == Some(file.path())
        {
            // Not renamed: an error stopped the write. `NamedTempFile` removes the file.
            *pending = None;
        }
    }
}
