//! Fuzz the git index reader (`source::git::index::parse`), which `patrol staged` runs on the
//! index of the repository it is in: errors, never panics, and whatever parses answers every
//! question the staged comparison asks of it (paths, directory ranges, cache-tree nodes)
//! within bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::source::git::index::{self, CacheTree};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = index::parse(data.to_vec(), None) else {
        return;
    };
    for entry in file.entries() {
        let path = file.path(entry);
        let _ = (entry.stage(), entry.assume_valid(), entry.intent_to_add());
        // Every directory above an entry: its range holds the entry and answers questions.
        for (i, &b) in path.iter().enumerate() {
            if b == b'/' {
                let range = file.under(&path[..i]);
                assert!(range.end <= file.entries().len());
                let _ = file.all_regular(&range);
            }
        }
    }
    if let Some(tree) = &file.cache_tree {
        let _ = tree.valid(CacheTree::ROOT);
        if let Some(first) = file.entries().first() {
            let name = file.path(first).split(|&b| b == b'/').next().unwrap_or_default();
            if let Some(child) = tree.child(CacheTree::ROOT, name) {
                let _ = tree.valid(child);
            }
        }
    }
});
