//! Archives and packages: zip and the formats built on it (`.nupkg`, `.jar`, `.whl`, `.vsix`),
//! tar, and gzip (`.gz`, `.log.gz`, `.tgz`). Recognised by their first bytes, never by name,
//! so a blob in git history (scanned before any path is known) is treated like the same file on
//! disk. Each member is inflated in memory within hard limits and handed to the caller; the
//! limits defeat decompression bombs (see docs/archives.md).
//!
//! Knows nothing of rules or findings: [`crate::scan`] decides what to do with each member,
//! including opening archives nested in it.

use std::io::Read;

/// Containers opened inside one another at most this deep (a `.jar` in a `.zip` in a `.nupkg`
/// is three).
pub const MAX_DEPTH: usize = 3;
/// Members (files and directories, at every depth) read from one outermost archive.
pub const MAX_ENTRIES: u64 = 100_000;
/// Inflated bytes per compressed byte beyond which a member is a bomb (ordinary text
/// compresses 3–20 times; a bomb 1,000 times and more).
pub const MAX_RATIO: u64 = 100;
/// A member may always inflate to this much, whatever its ratio (tiny members of repetitive
/// text exceed the ratio honestly).
pub const MEMBER_FLOOR: u64 = 1 << 20;
/// Inflated bytes one outermost archive may yield, at every depth together: at least
/// [`TOTAL_FLOOR`], at most [`MAX_TOTAL`], else [`MAX_RATIO`] times the archive's size.
pub const TOTAL_FLOOR: u64 = 64 << 20;
pub const MAX_TOTAL: u64 = 1 << 30;

/// What the first bytes say a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
}

/// The container format of `bytes`, if any. An empty zip (no local header) is not one.
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if bytes.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What one outermost archive may still cost; shared by everything nested in it.
#[derive(Debug)]
pub struct Budget {
    inflated_left: u64,
    entries_left: u64,
    /// Largest member (the scan's `--max-file-size`).
    pub max_member: u64,
}

impl Budget {
    /// The allowance of an outermost archive of `archive_len` bytes.
    pub fn new(archive_len: usize, max_member: u64) -> Self {
        let by_ratio = (archive_len as u64).saturating_mul(MAX_RATIO);
        Budget {
            inflated_left: by_ratio.clamp(TOTAL_FLOOR, MAX_TOTAL),
            entries_left: MAX_ENTRIES,
            max_member,
        }
    }
}

/// Why a member was not handed over, or why the rest of an archive was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Over a decompression-bomb limit (ratio, total, entries or depth): a warning and a count.
    Limit(String),
    /// Larger than `--max-file-size`.
    Large(u64),
    /// Damaged, encrypted or in a compression method we do not read.
    Unreadable(String),
}

/// The caller's side of a walk over an archive's members.
pub trait Visitor {
    /// One member's bytes (after any gzip layer); `name` is its path inside the archive.
    fn member(&mut self, name: &str, bytes: &[u8], budget: &mut Budget);
    /// A member (`name`), or the rest of the archive (`name` empty), that was not read.
    fn skipped(&mut self, name: &str, why: Skip);
}

/// Hand every member of the container `bytes` (of `kind`) to `visitor`. For gzip the single
/// member has an empty name: gzip compresses one file, it does not hold named members (a gzip
/// around a tar is read as the tar).
pub fn walk(kind: Kind, bytes: &[u8], budget: &mut Budget, visitor: &mut dyn Visitor) {
    match kind {
        Kind::Zip => walk_zip(bytes, budget, visitor),
        Kind::Tar => walk_tar(bytes, budget, visitor),
        Kind::Gzip => walk_gzip(bytes, budget, visitor),
    }
}

/// Read `reader` to its end, up to `cap` bytes; `None` when it holds more.
fn read_capped(reader: impl Read, cap: u64, out: &mut Vec<u8>) -> std::io::Result<Option<()>> {
    out.clear();
    reader.take(cap.saturating_add(1)).read_to_end(out)?;
    Ok((out.len() as u64 <= cap).then_some(()))
}

fn take_entry(budget: &mut Budget, visitor: &mut dyn Visitor) -> bool {
    if budget.entries_left == 0 {
        visitor.skipped(
            "",
            Skip::Limit(format!(
                "more than {MAX_ENTRIES} members; the rest were not read"
            )),
        );
        return false;
    }
    budget.entries_left -= 1;
    true
}

fn total_limit() -> Skip {
    Skip::Limit(format!(
        "inflates past the archive's total limit ({MAX_RATIO} times its size, at least {} MiB, \
         at most {} MiB); the rest was not read",
        TOTAL_FLOOR >> 20,
        MAX_TOTAL >> 20
    ))
}

/// The three bounds on one member's inflated size, and which one it overran.
struct Caps {
    by_ratio: u64,
    max_member: u64,
    left: u64,
}

impl Caps {
    fn new(compressed: u64, budget: &Budget) -> Self {
        Caps {
            by_ratio: compressed.saturating_mul(MAX_RATIO).max(MEMBER_FLOOR),
            max_member: budget.max_member,
            left: budget.inflated_left,
        }
    }

    fn cap(&self) -> u64 {
        self.by_ratio.min(self.max_member).min(self.left)
    }

    /// Charge the bytes inflated before the member overran its cap, and say why it stopped.
    fn overrun(&self, budget: &mut Budget) -> Skip {
        let cap = self.cap();
        budget.inflated_left -= cap;
        if cap == self.left {
            budget.inflated_left = 0;
            total_limit()
        } else if cap == self.by_ratio {
            Skip::Limit(format!(
                "inflates more than {MAX_RATIO} times its compressed size; not read"
            ))
        } else {
            Skip::Large(cap + 1)
        }
    }
}

fn walk_zip(bytes: &[u8], budget: &mut Budget, visitor: &mut dyn Visitor) {
    let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => return visitor.skipped("", Skip::Unreadable(format!("not a readable zip: {e}"))),
    };
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        if crate::interrupt::interrupted() {
            return;
        }
        if !take_entry(budget, visitor) {
            return;
        }
        let file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                visitor.skipped(&format!("#{i}"), Skip::Unreadable(e.to_string()));
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let name = match file.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(file.name_raw()).into_owned(),
        };
        if file.size() > budget.max_member {
            visitor.skipped(&name, Skip::Large(file.size()));
            continue;
        }
        // The ratio is judged per member against its own compressed size, so one bomb does
        // not hide the ordinary members beside it.
        let caps = Caps::new(file.compressed_size(), budget);
        match read_capped(file, caps.cap(), &mut buf) {
            Ok(Some(())) => {}
            Ok(None) => {
                let why = caps.overrun(budget);
                let total = caps.cap() == caps.left;
                visitor.skipped(&name, why);
                if total {
                    return;
                }
                continue;
            }
            Err(e) => {
                budget.inflated_left = budget.inflated_left.saturating_sub(buf.len() as u64);
                visitor.skipped(&name, Skip::Unreadable(e.to_string()));
                continue;
            }
        }
        budget.inflated_left -= buf.len() as u64;
        visitor.member(&name, &buf, budget);
    }
}

fn walk_tar(bytes: &[u8], budget: &mut Budget, visitor: &mut dyn Visitor) {
    walk_tar_stream(bytes, budget, visitor);
}

/// Tar members from any reader (a tar in memory, or a gzip stream being inflated).
fn walk_tar_stream(reader: impl Read, budget: &mut Budget, visitor: &mut dyn Visitor) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return visitor.skipped("", Skip::Unreadable(format!("not a readable tar: {e}"))),
    };
    let mut buf = Vec::new();
    for entry in entries {
        if crate::interrupt::interrupted() {
            return;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                return visitor.skipped("", Skip::Unreadable(format!("damaged tar: {e}")));
            }
        };
        if !take_entry(budget, visitor) {
            return;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        if size > budget.max_member {
            visitor.skipped(&name, Skip::Large(size));
            continue;
        }
        if size > budget.inflated_left {
            budget.inflated_left = 0;
            return visitor.skipped(&name, total_limit());
        }
        match read_capped(entry, size, &mut buf) {
            Ok(_) => {}
            Err(e) => return visitor.skipped(&name, Skip::Unreadable(e.to_string())),
        }
        budget.inflated_left -= buf.len() as u64;
        visitor.member(&name, &buf, budget);
    }
}

/// Counts what a gzip stream has inflated, and stops it at the archive's allowance.
struct Metered<R> {
    inner: R,
    left: u64,
    read: u64,
    /// Set when the stream wanted to give more than the allowance.
    over: bool,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // Is there more? One byte tells.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.over = true;
            }
            return Ok(0);
        }
        let n = out.len().min(self.left.min(usize::MAX as u64) as usize);
        let got = self.inner.read(&mut out[..n])?;
        self.left -= got as u64;
        self.read += got as u64;
        Ok(got)
    }
}

fn walk_gzip(bytes: &[u8], budget: &mut Budget, visitor: &mut dyn Visitor) {
    // Tar inside: its header block is the first 512 inflated bytes.
    let mut head = Vec::new();
    let probe = flate2::read::MultiGzDecoder::new(bytes)
        .take(512)
        .read_to_end(&mut head);
    if let Err(e) = probe {
        return visitor.skipped("", Skip::Unreadable(format!("not a readable gzip: {e}")));
    }
    let inner_is_tar = head.get(257..262) == Some(b"ustar");
    let left = budget.inflated_left;
    if inner_is_tar {
        let mut stream = Metered {
            inner: flate2::read::MultiGzDecoder::new(bytes),
            left,
            read: 0,
            over: false,
        };
        walk_tar_stream(&mut stream, budget, visitor);
        budget.inflated_left = left.saturating_sub(stream.read);
        if stream.over {
            budget.inflated_left = 0;
            visitor.skipped("", total_limit());
        }
        return;
    }
    let caps = Caps::new(bytes.len() as u64, budget);
    let mut buf = Vec::new();
    match read_capped(
        flate2::read::MultiGzDecoder::new(bytes),
        caps.cap(),
        &mut buf,
    ) {
        Ok(Some(())) => {
            budget.inflated_left -= buf.len() as u64;
            visitor.member("", &buf, budget);
        }
        Ok(None) => {
            let why = caps.overrun(budget);
            visitor.skipped("", why);
        }
        Err(e) => {
            budget.inflated_left = budget.inflated_left.saturating_sub(buf.len() as u64);
            visitor.skipped("", Skip::Unreadable(format!("damaged gzip: {e}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Default)]
    struct Seen {
        members: Vec<(String, Vec<u8>)>,
        skipped: Vec<(String, Skip)>,
    }

    impl Visitor for Seen {
        fn member(&mut self, name: &str, bytes: &[u8], _: &mut Budget) {
            self.members.push((name.to_string(), bytes.to_vec()));
        }
        fn skipped(&mut self, name: &str, why: Skip) {
            self.skipped.push((name.to_string(), why));
        }
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn gzip_of(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn walk_all(bytes: &[u8]) -> Seen {
        let mut seen = Seen::default();
        let mut budget = Budget::new(bytes.len(), 64 << 20);
        walk(
            kind(bytes).expect("an archive"),
            bytes,
            &mut budget,
            &mut seen,
        );
        seen
    }

    #[test]
    fn kinds_by_magic() {
        assert_eq!(kind(&zip_of(&[("a", b"x")])), Some(Kind::Zip));
        assert_eq!(kind(&gzip_of(b"x")), Some(Kind::Gzip));
        assert_eq!(kind(b"PK not a zip"), None);
        assert_eq!(kind(b"plain text"), None);
    }

    #[test]
    fn zip_members_in_order() {
        let seen = walk_all(&zip_of(&[("a/b.txt", b"one"), ("c.txt", b"two")]));
        assert_eq!(
            seen.members,
            vec![
                ("a/b.txt".to_string(), b"one".to_vec()),
                ("c.txt".to_string(), b"two".to_vec())
            ]
        );
        assert!(seen.skipped.is_empty());
    }

    #[test]
    fn zip_bomb_member_is_cut_and_its_neighbour_read() {
        let zeros = vec![0u8; 16 << 20];
        let seen = walk_all(&zip_of(&[("bomb.bin", &zeros), ("ok.txt", b"fine")]));
        assert_eq!(seen.members, vec![("ok.txt".to_string(), b"fine".to_vec())]);
        assert!(matches!(&seen.skipped[..], [(n, Skip::Limit(_))] if n == "bomb.bin"));
    }

    #[test]
    fn gzip_member_and_limit() {
        let seen = walk_all(&gzip_of(b"hello\n"));
        assert_eq!(seen.members, vec![(String::new(), b"hello\n".to_vec())]);
        let big = gzip_of(&vec![b'a'; 2 << 20]);
        let mut seen = Seen::default();
        let mut budget = Budget::new(big.len(), 512 << 10);
        walk(Kind::Gzip, &big, &mut budget, &mut seen);
        assert!(seen.members.is_empty());
        assert!(matches!(&seen.skipped[..], [(_, Skip::Large(_))]));
    }

    #[test]
    fn entry_limit_stops_the_archive() {
        let z = zip_of(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        let mut seen = Seen::default();
        let mut budget = Budget::new(z.len(), 1 << 20);
        budget.entries_left = 2;
        walk(Kind::Zip, &z, &mut budget, &mut seen);
        assert_eq!(seen.members.len(), 2);
        assert!(matches!(&seen.skipped[..], [(n, Skip::Limit(_))] if n.is_empty()));
    }

    #[test]
    fn damaged_zip_is_unreadable_not_clean() {
        let mut z = zip_of(&[("a", b"x")]);
        z.truncate(z.len() - 10);
        let seen = walk_all(&z);
        assert!(matches!(&seen.skipped[..], [(_, Skip::Unreadable(_))]));
    }
}
