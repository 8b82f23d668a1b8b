//! The incremental record: ids of the blobs a rule set has already scanned and found clean,
//! one append-only file per organization (and shard) and rule-set hash. A re-run skips those
//! blobs; blobs that held findings are never recorded, so they are read again and reported
//! again, and a changed rule set (a different hash) starts from nothing.
//!
//! The file is 20-byte object ids back to back; a torn last record (a run killed while
//! appending) is ignored. It holds no secret and no token. Not for the mirrors: see `mirror`.

use git2::Oid;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const OID_LEN: usize = 20;

/// The set of clean blobs, loaded once, appended to as repositories finish.
pub struct Record {
    path: PathBuf,
    known: HashSet<Oid>,
    file: Mutex<Option<std::fs::File>>,
}

/// Hash naming a rule set and the options that change what a blob's scan finds.
pub fn rules_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    crate::finding::hex(&h.finalize()[..12])
}

impl Record {
    /// Load `dir/scanned-<hash>.oids` (or start empty).
    pub fn open(dir: &Path, hash: &str) -> std::io::Result<Record> {
        let path = dir.join(format!("scanned-{hash}.oids"));
        let mut bytes = Vec::new();
        match std::fs::File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let whole = bytes.len() - bytes.len() % OID_LEN;
        let known = bytes[..whole]
            .chunks_exact(OID_LEN)
            .filter_map(|c| Oid::from_bytes(c).ok())
            .collect();
        if whole != bytes.len() {
            // Cut the torn tail so that appends line up again.
            let f = std::fs::OpenOptions::new().write(true).open(&path)?;
            f.set_len(whole as u64)?;
        }
        Ok(Record {
            path,
            known,
            file: Mutex::new(None),
        })
    }

    /// Whether `oid` was scanned clean by an earlier run (of the same rule set).
    pub fn contains(&self, oid: &Oid) -> bool {
        self.known.contains(oid)
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Append the clean blobs of one finished repository (flushed to disk before returning).
    pub fn append(&self, clean: &[Oid]) -> std::io::Result<()> {
        let fresh: Vec<u8> = clean
            .iter()
            .filter(|o| !self.known.contains(o))
            .flat_map(|o| o.as_bytes().to_vec())
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let mut slot = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let mut opts = std::fs::OpenOptions::new();
            opts.append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            *slot = Some(opts.open(&self.path)?);
        }
        let f = slot.as_mut().expect("just opened");
        f.write_all(&fresh)?;
        f.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_survive_and_torn_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let a = Oid::from_bytes(&[1; 20]).unwrap();
        let b = Oid::from_bytes(&[2; 20]).unwrap();
        let r = Record::open(dir.path(), "h").unwrap();
        assert!(r.is_empty());
        r.append(&[a, b]).unwrap();
        drop(r);
        let path = dir.path().join("scanned-h.oids");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&[9; 7]).unwrap();
        let r = Record::open(dir.path(), "h").unwrap();
        assert_eq!(r.len(), 2);
        assert!(r.contains(&a) && r.contains(&b));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 40);
        assert!(Record::open(dir.path(), "other").unwrap().is_empty());
        assert_ne!(rules_hash(&[b"ab", b"c"]), rules_hash(&[b"a", b"bc"]));
    }
}
