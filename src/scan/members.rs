//! Archives and packages: each member scanned as a file of its own, nested archives opened
//! within the limits of [`crate::archive`].

use super::{BlobResult, scan_text};
use crate::archive::{self, Budget, Kind, Skip};
use crate::detect::Matcher;
use crate::finding::Encoding;
use crate::scan::ScanOptions;

/// Scans each member of one archive, opening the archives nested in it.
pub(super) struct MemberScan<'a> {
    pub(super) matcher: &'a Matcher,
    pub(super) opts: &'a ScanOptions,
    /// This archive's own member path inside the outermost one (empty for the outermost).
    pub(super) prefix: String,
    pub(super) kind: Kind,
    pub(super) depth: usize,
    pub(super) result: &'a mut BlobResult,
}

impl MemberScan<'_> {
    fn member_path(&self, name: &str) -> String {
        match (self.prefix.is_empty(), name.is_empty()) {
            (_, true) => self.prefix.clone(),
            (true, false) => name.to_string(),
            (false, false) => format!("{}!{name}", self.prefix),
        }
    }

    fn note(&mut self, member: &str, why: String) {
        let suffix = if member.is_empty() {
            String::new()
        } else {
            format!("!{member}")
        };
        self.result.archive.notes.push((suffix, why));
    }
}

impl archive::Visitor for MemberScan<'_> {
    fn member(&mut self, name: &str, bytes: &[u8], budget: &mut Budget) {
        let member = self.member_path(name);
        self.result.archive.members += 1;
        if let Some(kind) = archive::kind(bytes) {
            if self.depth >= archive::MAX_DEPTH {
                self.result.archive.limits += 1;
                self.note(
                    &member,
                    format!(
                        "an archive nested more than {} deep; not opened",
                        archive::MAX_DEPTH
                    ),
                );
                return;
            }
            let mut inner = MemberScan {
                matcher: self.matcher,
                opts: self.opts,
                prefix: member,
                kind,
                depth: self.depth + 1,
                result: &mut *self.result,
            };
            archive::walk(kind, bytes, budget, &mut inner);
            return;
        }
        // A bare gzip stream is a compressed file, not a container: its text is reported at
        // the file's own path, with `gzip` as its encoding.
        let layer = (self.kind == Kind::Gzip && name.is_empty()).then_some(Encoding::Gzip);
        let member = (!member.is_empty()).then_some(member.as_str());
        let before = self.result.binary_skipped;
        scan_text(self.matcher, bytes, member, layer, self.opts, self.result);
        // Binary members (.dll, .class) are the normal content of packages, not worth a count.
        self.result.binary_skipped = before;
    }

    fn skipped(&mut self, name: &str, why: Skip) {
        let member = self.member_path(name);
        let tally = &mut self.result.archive;
        let why = match why {
            Skip::Limit(why) => {
                tally.limits += 1;
                why
            }
            Skip::Large(size) => {
                tally.large += 1;
                format!(
                    "skipped: {} is over --max-file-size {}",
                    crate::util::human_bytes(size),
                    crate::util::human_bytes(self.opts.max_member_size)
                )
            }
            Skip::Unreadable(why) => {
                tally.unreadable += 1;
                format!("cannot read: {why}")
            }
        };
        self.note(&member, why);
    }
}
