//! Reading one blob for scanning, the same way for every git source (history, attribution,
//! the staged index): the object header first, so that a blob over `--max-file-size` is never
//! inflated, then the content.

use crate::source::fs::human_bytes;
use git2::{Blob, Oid, Repository};

/// A blob as read for scanning.
pub enum BlobRead<'r> {
    Read(Blob<'r>),
    /// Over the size limit, so not read: its size.
    TooLarge(u64),
}

/// Read blob `oid`, unless its header says it is larger than `max_size` bytes.
pub fn read_blob(repo: &Repository, oid: Oid, max_size: u64) -> Result<BlobRead<'_>, git2::Error> {
    let (size, _) = repo.odb()?.read_header(oid)?;
    if size as u64 > max_size {
        return Ok(BlobRead::TooLarge(size as u64));
    }
    repo.find_blob(oid).map(BlobRead::Read)
}

/// Why a blob of `size` bytes was not read: `"<size> is over --max-file-size <max>"`.
pub fn over_limit(size: u64, max_size: u64) -> String {
    format!(
        "{} is over --max-file-size {}",
        human_bytes(size),
        human_bytes(max_size)
    )
}
