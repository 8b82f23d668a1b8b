//! The matcher: every rule compiled once into one literal automaton plus keywordless run
//! scanners, then regex → validator → decoder on each candidate.
//!
//! It works on bytes and knows nothing of files, git or output formats: give it a buffer, get
//! back [`Match`]es with byte offsets into that buffer.

pub mod checksum;
pub mod decode;
pub mod org;
pub mod placeholder;
pub mod plausible;

mod checks;
mod compile;
mod keywords;
mod runs;

use checks::{after_glued_flag, constant_payload, dedupe, validate};
pub use compile::CompileError;
use compile::{CompiledRule, RunScanner};
use runs::{for_each_long_run, for_each_run_in};
pub use runs::{for_each_run, for_each_run_of};

use crate::finding::{Encoding, OrgSource};
use crate::rules::{Confidence, Rule, Validator};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use std::sync::OnceLock;

/// How far before a keyword a match may start (unless the rule says), and after it end.
const LOOKBEHIND: usize = 256;
const LOOKAHEAD: usize = 1024;
/// After this many searches in a row for one rule, each overlapping the window before and each
/// in vain, the rule's hits are dense (`_auth=_auth=…`): its regex then reads the line once in
/// segments of [`DENSE_SEGMENT`] bytes instead of a window per hit, which would read every
/// byte a thousand times.
const DENSE_AFTER: u32 = 8;
const DENSE_SEGMENT: usize = 64 * 1024;
/// [`Matcher::scan_each`] hands matches on once this many wait, so that a file repeating a
/// token on every line never holds all its matches at once.
const BATCH: usize = 4096;
/// ... and read keywordless runs (which need no keyword hit) in steps of this many bytes.
const STEP: usize = 256 * 1024;

pub use crate::rules::byte_class;

/// One secret found in a buffer. Its `Debug` shows the secret redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule the finding is reported under.
    pub rule: usize,
    /// Index of the rule that located it (differs when a decoder found a token inside).
    pub origin: usize,
    /// Byte span in the buffer (for decoded secrets: the encoded text).
    pub start: usize,
    pub end: usize,
    /// The secret itself (decoded). Never print this without `--show-secrets`.
    pub secret: String,
    /// `Base64`, `Url` or `None` when the secret stands in the text as is.
    pub encoding: Option<Encoding>,
    /// Organisation named near the secret, if any, and what named it.
    pub organization: Option<(String, OrgSource)>,
    /// A credential without a checksum that looks like test data (`plausible::Verdict::Weak`):
    /// reported one confidence level below its rule's.
    pub weak: bool,
}

// A panic message or debug print must not reveal the secret.
impl std::fmt::Debug for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Match")
            .field("rule", &self.rule)
            .field("origin", &self.origin)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("secret", &crate::finding::Secret::new(self.secret.clone()))
            .field("encoding", &self.encoding)
            .field("organization", &self.organization)
            .field("weak", &self.weak)
            .finish()
    }
}

/// All rules, compiled once and shared by every thread.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    keywords: Option<AhoCorasick>,
    keyword_rules: Vec<Vec<usize>>,
    runs: Vec<RunScanner>,
    /// Bytes in any run scanner's class: a batch of matches ends at a byte outside it, where
    /// no keywordless run can straddle the cut.
    run_bytes: [bool; 256],
    /// The shortest run any run scanner wants (`usize::MAX` when there is none).
    run_shortest: usize,
    /// How far before a keyword hit any rule's match may start.
    lookbehind: usize,
    /// Built on the first Azure DevOps match (like the rules' patterns, on first use).
    org: OnceLock<org::OrgFinder>,
}

/// Matches found but not yet handed on, and how far the keywordless run scanners have read.
struct Pending {
    out: Vec<Match>,
    runs_done: usize,
    /// Hand matches on once this many wait ([`BATCH`]; `usize::MAX`: only at the end)...
    batch: usize,
    /// ... or once the keyword pass is this many bytes past the runs read ([`STEP`]).
    step: usize,
    /// No byte outside the run scanners' classes lies after `runs_done` up to here (one long
    /// run, e.g. a huge base64 line): not searched again for a cut.
    no_cut_until: usize,
}

impl Pending {
    fn new(out: Vec<Match>, batch: usize) -> Self {
        Pending {
            out,
            runs_done: 0,
            batch,
            step: STEP.min(batch.saturating_mul(64)),
            no_cut_until: 0,
        }
    }
}

impl Matcher {
    pub fn rule(&self, idx: usize) -> &Rule {
        &self.rules[idx].rule
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// Find every secret in `hay`, deduplicated, ordered by position (see [`Self::scan_each`]).
    pub fn scan(&self, hay: &[u8]) -> Vec<Match> {
        let mut out = Vec::new();
        self.scan_each(hay, |m| out.push(m));
        out
    }

    /// Hand every secret in `hay` to `sink`, deduplicated, in order of position. Matches are
    /// handed on in batches as the search moves along, so memory stays flat however many a
    /// file holds. The organisation is looked up for the first occurrence of each secret (the
    /// one reported): a file repeating a token half a million times would otherwise search
    /// 4 KiB around every copy.
    pub fn scan_each(&self, hay: &[u8], sink: impl FnMut(Match)) {
        self.scan_batched(hay, BATCH, sink)
    }

    #[cfg(test)]
    fn scan_batched_vec(&self, hay: &[u8], batch: usize) -> Vec<Match> {
        let mut out = Vec::new();
        self.scan_batched(hay, batch, |m| out.push(m));
        out
    }

    fn scan_batched(&self, hay: &[u8], batch: usize, mut sink: impl FnMut(Match)) {
        let mut looked_up: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut emit = |ready: &mut Vec<Match>| {
            dedupe(ready, |i| self.rules[i].rule.confidence);
            for mut m in ready.drain(..) {
                // Only Azure DevOps secrets belong to an organisation.
                if m.organization.is_none()
                    && self.rules[m.rule].rule.provider == crate::rules::Provider::AzureDevops
                    && !looked_up.contains(&m.secret)
                {
                    looked_up.insert(m.secret.clone());
                    m.organization = self
                        .org
                        .get_or_init(org::OrgFinder::new)
                        .near(hay, m.start, m.end);
                }
                sink(m);
            }
        };
        let mut pending = Pending::new(Vec::new(), batch);
        let mut flush = |p: &mut Pending, upto: usize| {
            let mut ready: Vec<Match>;
            (ready, p.out) = std::mem::take(&mut p.out)
                .into_iter()
                .partition(|m| m.start < upto);
            emit(&mut ready);
        };
        self.search(hay, true, &mut pending, &mut flush);
        self.advance(hay, hay.len(), &mut pending, &mut flush);
        emit(&mut pending.out);
    }

    /// Every match of `hay` into `out`, unordered (for text a decoder produced).
    fn scan_into(&self, hay: &[u8], decode: bool, out: &mut Vec<Match>) {
        let mut pending = Pending::new(std::mem::take(out), usize::MAX);
        self.search(hay, decode, &mut pending, &mut |_, _| {});
        self.runs_until(hay, hay.len(), &mut pending);
        *out = pending.out;
    }

    /// Run the keywordless run scanners over `hay[p.runs_done..upto]`. `upto` is the end of
    /// `hay` or a byte outside every scanner's class, so no run straddles it.
    ///
    /// One pass serves every scanner: a run of any class long enough for it lies inside a run
    /// of the classes' union at least as long, so each scanner looks only inside the union's
    /// long runs (rare in most text) instead of sampling all of `hay` once per class.
    fn runs_until(&self, hay: &[u8], upto: usize, p: &mut Pending) {
        let out = &mut p.out;
        for_each_long_run(
            hay,
            p.runs_done..upto,
            &self.run_bytes,
            self.run_shortest,
            |a, b| {
                for run in &self.runs {
                    for_each_run_in(hay, a..b, &run.class, &run.lengths, |s, e| {
                        for &(len, longest, glue, ri) in &run.rules {
                            let s = if (len..=longest).contains(&(e - s)) {
                                s
                            } else if let Some(s) = after_glued_flag(hay, s, e, len, glue) {
                                s
                            } else {
                                continue;
                            };
                            if self.rules[ri].pattern().regex.is_match(&hay[s..e]) {
                                self.candidate(ri, hay, s, e, false, out);
                            }
                        }
                    });
                }
            },
        );
        p.runs_done = upto;
    }

    /// Hand on the matches that start before `known`, below which the keyword pass has found
    /// every match: the runs there are read in steps of `p.step` bytes, each step ending at
    /// a byte outside every run scanner's class (where no run straddles the cut), and each
    /// step's matches handed to `flush`.
    fn advance(
        &self,
        hay: &[u8],
        known: usize,
        p: &mut Pending,
        flush: &mut dyn FnMut(&mut Pending, usize),
    ) {
        while p.runs_done < known {
            let target = p.runs_done.saturating_add(p.step).min(known);
            let outside = |i: &usize| *i == hay.len() || !self.run_bytes[hay[*i] as usize];
            let from = p.no_cut_until.max(p.runs_done);
            let cut = (from + 1..=target)
                .rev()
                .find(outside)
                .or_else(|| (target.max(from) + 1..=known).find(outside));
            let Some(cut) = cut else {
                // One run reaches past everything known: wait for more.
                p.no_cut_until = known;
                return;
            };
            self.runs_until(hay, cut, p);
            flush(p, cut);
        }
    }

    /// Judge one candidate span of rule `ri`. `example_host`: the credential is for a loopback
    /// or documentation host, so only tokens inside it count, not the credential itself.
    // Long: a candidate's checks in the order they decide (pattern, glued flag, decoder,
    // checksum, test vector, placeholder and plausibility, organisation); each is a call, the
    // order is the logic.
    fn candidate(
        &self,
        ri: usize,
        hay: &[u8],
        s: usize,
        e: usize,
        example_host: bool,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules[ri].rule;
        let raw = &hay[s..e];
        if let Some(v) = rule.validator {
            let Some(len) = validate(v, raw, &self.rules[ri].seeds) else {
                return;
            };
            out.push(Match {
                rule: ri,
                origin: ri,
                start: s,
                end: s + len,
                secret: String::from_utf8_lossy(&raw[..len]).into_owned(),
                encoding: None,
                organization: None,
                weak: constant_payload(&raw[..len]),
            });
            return;
        }
        let Some(decoder) = rule.decoder else {
            if placeholder::is_placeholder(&String::from_utf8_lossy(raw)) {
                return;
            }
            out.push(Match {
                rule: ri,
                origin: ri,
                start: s,
                end: e,
                secret: String::from_utf8_lossy(raw).into_owned(),
                encoding: None,
                organization: None,
                weak: false,
            });
            return;
        };
        if decoder == crate::rules::Decoder::Base64Wrapped {
            self.wrapped_base64(ri, hay, s, e, out);
            return;
        }
        let joined = matches!(
            decoder,
            crate::rules::Decoder::Base64 | crate::rules::Decoder::Base64Credentials
        )
        .then(|| decode::wrapped_value(hay, s, e))
        .flatten();
        let raw = joined.as_deref().unwrap_or(raw);
        let Some(decoded) = decode::decode(decoder, raw) else {
            return;
        };
        let mut inner = Vec::new();
        self.scan_into(decoded.text.as_bytes(), false, &mut inner);
        inner.retain(|m| self.rules[m.rule].rule.validator.is_some());
        if !inner.is_empty() {
            for m in inner {
                let (start, end) = if decoded.identity {
                    (s + m.start, s + m.end)
                } else {
                    (s, e)
                };
                out.push(Match {
                    rule: m.rule,
                    origin: ri,
                    start,
                    end,
                    secret: m.secret,
                    encoding: decoded.encoding,
                    organization: None,
                    weak: false,
                });
            }
            return;
        }
        if example_host || rule.tokens_only {
            return;
        }
        let weak = match decoded.verdict() {
            plausible::Verdict::NotSecret => return,
            plausible::Verdict::Weak => true,
            plausible::Verdict::Plausible => false,
        };
        out.push(Match {
            rule: ri,
            origin: ri,
            start: s,
            end: e,
            secret: decoded.text,
            encoding: decoded.encoding,
            organization: None,
            weak,
        });
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
