//! Where bytes come from: the filesystem and stdin (here), git history (`git`). Each source
//! hands blobs to [`crate::scan::scan_blob`] and knows nothing of rules or output formats.

pub mod fs;
