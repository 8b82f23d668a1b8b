//! Where bytes come from: the filesystem and stdin (`fs`), git history (`git`), the staged
//! index (`staged`). Each source hands blobs to
//! [`crate::scan::scan_blob`] and knows nothing of rules or output formats.

pub mod fs;
pub mod git;
pub mod staged;
