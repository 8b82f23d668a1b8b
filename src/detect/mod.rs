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

/// The spellings of a keyword that text uses: as written, lower, UPPER and Title case.
///
/// Matching these exactly (rather than ASCII-case-insensitively) lets the literal search use
/// its SIMD prefilter, which is several times faster on source code; mixed spellings such as
/// `bAsIc` are not worth that cost.
fn case_variants(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    let mut title = lower.clone();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut v = vec![
        keyword.to_string(),
        lower,
        keyword.to_ascii_uppercase(),
        title,
    ];
    v.sort();
    v.dedup();
    v
}

pub use crate::rules::byte_class;

struct CompiledRule {
    rule: Rule,
    /// The pattern, compiled on the rule's first candidate (a keyword hit or a run of its
    /// length): a run whose text holds none of a rule's keywords never pays for its regex,
    /// which is most of a small scan's start-up (`patrol staged` on a few lines).
    pattern: OnceLock<Pattern>,
    /// Marvin32 seeds of a `marvin32-base64` rule.
    seeds: Vec<u64>,
}

/// A rule's compiled pattern and what is learnt from it.
struct Pattern {
    regex: Regex,
    secret_group: Option<usize>,
    /// Longest match the pattern can make, in bytes, when bounded (lets keyword hits inside a
    /// window already searched in vain be skipped).
    max_len: Option<usize>,
}

impl Pattern {
    fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        let regex = Regex::new(pattern)?;
        let secret_group = regex.capture_names().position(|n| n == Some("secret"));
        let max_len = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()
            .and_then(|hir| hir.properties().maximum_len());
        Ok(Pattern {
            regex,
            secret_group,
            max_len,
        })
    }
}

impl CompiledRule {
    fn pattern(&self) -> &Pattern {
        self.pattern.get_or_init(|| {
            // Every rule's pattern compiled when its file was loaded (`rules::check_rule`,
            // and a test for the built-in ones).
            Pattern::new(&self.rule.pattern).expect("rule patterns are checked when loaded")
        })
    }
}

/// The keywordless rules of one byte class, scanned in one pass whatever their lengths.
struct RunScanner {
    class: [bool; 256],
    /// Run lengths wanted, ascending, each once.
    lengths: Vec<usize>,
    /// `(shortest, longest, glued_flag, rule)`.
    rules: Vec<(usize, usize, usize, usize)>,
}

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

/// Why a rule set did not compile. Rules were checked when loaded, so this is a bug in a check.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    ByteClass(#[from] crate::rules::ByteClassError),
    #[error("{0}")]
    Keywords(aho_corasick::BuildError),
}

impl Matcher {
    /// Compile a rule set. Rules were checked when loaded, so errors here are bugs in a check.
    pub fn new(rules: Vec<Rule>) -> Result<Matcher, CompileError> {
        let mut compiled = Vec::with_capacity(rules.len());
        let mut literals: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut runs: Vec<RunScanner> = Vec::new();
        for (idx, rule) in rules.into_iter().enumerate() {
            let variants: Vec<String> = if rule.exact_keywords {
                rule.keywords.clone()
            } else {
                rule.keywords
                    .iter()
                    .flat_map(|k| case_variants(k))
                    .collect()
            };
            for variant in variants {
                match literals.iter().position(|l| *l == variant) {
                    Some(p) => keyword_rules[p].push(idx),
                    None => {
                        literals.push(variant);
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
            if let Some(run) = &rule.run {
                let class = byte_class(&run.chars)?;
                let longest = run.max_length.unwrap_or(run.length);
                let wanted = (run.length, longest, run.glued_flag, idx);
                let lengths = run.length..=longest.max(run.length + run.glued_flag);
                match runs.iter_mut().find(|r| r.class == class) {
                    Some(r) => {
                        r.rules.push(wanted);
                        r.lengths.extend(lengths);
                        r.lengths.sort_unstable();
                        r.lengths.dedup();
                    }
                    None => runs.push(RunScanner {
                        class,
                        lengths: lengths.collect(),
                        rules: vec![wanted],
                    }),
                }
            }
            let seeds = rule
                .seeds
                .iter()
                .filter_map(|s| checksum::seed_from_name(s))
                .collect();
            compiled.push(CompiledRule {
                rule,
                pattern: OnceLock::new(),
                seeds,
            });
        }
        // The literal search reports one match per position, the first-listed literal's: when
        // one keyword begins another (`JQQJ9`, `JQQJ99`), a hit on either must run the rules of
        // both, or whichever is listed second would never see a hit.
        let snapshot = keyword_rules.clone();
        for (i, short) in literals.iter().enumerate() {
            for (j, long) in literals.iter().enumerate() {
                if i != j && long.starts_with(short.as_str()) {
                    keyword_rules[i].extend(&snapshot[j]);
                    keyword_rules[j].extend(&snapshot[i]);
                }
            }
        }
        for list in &mut keyword_rules {
            list.sort_unstable();
            list.dedup();
        }
        let keywords = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&literals)
                    .map_err(CompileError::Keywords)?,
            )
        };
        let mut run_bytes = [false; 256];
        for r in &runs {
            for (b, &inside) in run_bytes.iter_mut().zip(r.class.iter()) {
                *b |= inside;
            }
        }
        let lookbehind = compiled
            .iter()
            .map(|c| c.rule.max_prefix.unwrap_or(LOOKBEHIND))
            .max()
            .unwrap_or(LOOKBEHIND);
        Ok(Matcher {
            rules: compiled,
            keywords,
            keyword_rules,
            runs,
            run_bytes,
            lookbehind,
            org: OnceLock::new(),
        })
    }

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
    fn runs_until(&self, hay: &[u8], upto: usize, p: &mut Pending) {
        for run in &self.runs {
            for_each_run_in(hay, p.runs_done..upto, &run.class, &run.lengths, |s, e| {
                for &(len, longest, glue, ri) in &run.rules {
                    let s = if (len..=longest).contains(&(e - s)) {
                        s
                    } else if let Some(s) = after_glued_flag(hay, s, e, len, glue) {
                        s
                    } else {
                        continue;
                    };
                    if self.rules[ri].pattern().regex.is_match(&hay[s..e]) {
                        self.candidate(ri, hay, s, e, false, &mut p.out);
                    }
                }
            });
        }
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

    /// The keyword pass: each hit's rules over a window around it. Every so often (see
    /// [`Pending`]) the matches below the last hit's reach are handed on ([`Self::advance`]):
    /// no later hit finds one starting more than `lookbehind` before itself.
    fn search(
        &self,
        hay: &[u8],
        decode: bool,
        p: &mut Pending,
        flush: &mut dyn FnMut(&mut Pending, usize),
    ) {
        if let Some(ac) = &self.keywords {
            // Per rule, the last window its regex found nothing in. Text dense with a keyword
            // (`JQQJ9` a million times, shared by eight rules) would otherwise be searched again
            // for every hit.
            let mut clear: Vec<Option<(usize, usize)>> = vec![None; self.rules.len()];
            // Per rule: searches in vain in a row, each overlapping the one before, and the
            // end of the text a dense-mode segment has already covered.
            let mut in_vain: Vec<u32> = vec![0; self.rules.len()];
            let mut covered: Vec<usize> = vec![0; self.rules.len()];
            for hit in ac.find_iter(hay) {
                for &ri in &self.keyword_rules[hit.pattern().as_usize()] {
                    let cr = &self.rules[ri];
                    if cr.rule.decoder.is_some() && !decode {
                        continue;
                    }
                    let pat = cr.pattern();
                    // A match holding this hit starts at most `max_prefix` before it and ends
                    // within `max_len` of that; strictly inside a window already searched in
                    // vain (look-arounds saw the same bytes), there is none.
                    let from = hit
                        .start()
                        .saturating_sub(cr.rule.max_prefix.unwrap_or(LOOKBEHIND));
                    if let (Some(max), Some((clear_from, clear_to))) = (pat.max_len, clear[ri])
                        && from >= clear_from
                        && hit.start() + max < clear_to
                    {
                        continue;
                    }
                    if hit.start() < covered[ri] {
                        continue;
                    }
                    // Secrets do not span lines: the window ends at the line's end. Searching
                    // `hay[..end]` from `from` (not a sub-slice) keeps the text before it
                    // visible to `\b` and `^`.
                    let far = (hit.end() + LOOKAHEAD.max(pat.max_len.unwrap_or(0))).min(hay.len());
                    let end =
                        memchr::memchr(b'\n', &hay[hit.end()..far]).map_or(far, |i| hit.end() + i);
                    if in_vain[ri] >= DENSE_AFTER {
                        covered[ri] = self.dense_segment(ri, ac, hay, from, &mut p.out);
                        in_vain[ri] = 0;
                        clear[ri] = None;
                        continue;
                    }
                    let overlaps = clear[ri].is_some_and(|(_, clear_to)| from < clear_to);
                    in_vain[ri] = if overlaps { in_vain[ri] + 1 } else { 1 };
                    let window = &hay[..end];
                    let mut at = from;
                    clear[ri] = Some((from, end));
                    while let Some(caps) = pat.regex.captures_at(window, at) {
                        clear[ri] = None;
                        in_vain[ri] = 0;
                        let whole = caps.get(0).expect("group 0");
                        if whole.start() > hit.start() {
                            break;
                        }
                        at = whole.end().max(whole.start() + 1);
                        if whole.end() < hit.end() {
                            continue;
                        }
                        let sec = pat.secret_group.and_then(|g| caps.get(g)).unwrap_or(whole);
                        let local = caps
                            .name("host")
                            .is_some_and(|h| placeholder::is_example_host(h.as_bytes()));
                        self.candidate(ri, hay, sec.start(), sec.end(), local, &mut p.out);
                    }
                }
                let known = hit.start().saturating_sub(self.lookbehind);
                if p.out.len() >= p.batch || known >= p.runs_done.saturating_add(p.step) {
                    self.advance(hay, known, p, flush);
                }
            }
        }
    }

    /// Dense mode of rule `ri` from `from`: one pass of its regex over the rest of the line
    /// (at most [`DENSE_SEGMENT`] bytes), keeping matches that hold one of its keywords within
    /// `max_prefix` of their start, as a window per hit would. Returns the offset below which
    /// every hit has been dealt with.
    fn dense_segment(
        &self,
        ri: usize,
        ac: &AhoCorasick,
        hay: &[u8],
        from: usize,
        out: &mut Vec<Match>,
    ) -> usize {
        let cr = &self.rules[ri];
        let pat = cr.pattern();
        let cap = (from + DENSE_SEGMENT).min(hay.len());
        let line_end = memchr::memchr(b'\n', &hay[from..cap]).map(|i| from + i);
        let end = line_end.unwrap_or(cap);
        let prefix = cr.rule.max_prefix.unwrap_or(LOOKBEHIND);
        let window = &hay[..end];
        let mut at = from;
        while let Some(caps) = pat.regex.captures_at(window, at) {
            let whole = caps.get(0).expect("group 0");
            let span = &hay[whole.start()..whole.end()];
            let holds_keyword = ac.find_iter(span).any(|h| {
                h.start() <= prefix && self.keyword_rules[h.pattern().as_usize()].contains(&ri)
            });
            if !holds_keyword {
                // No hit of this rule would have found it; a match starting inside it might.
                at = whole.start() + 1;
                continue;
            }
            at = whole.end().max(whole.start() + 1);
            let sec = pat.secret_group.and_then(|g| caps.get(g)).unwrap_or(whole);
            let local = caps
                .name("host")
                .is_some_and(|h| placeholder::is_example_host(h.as_bytes()));
            self.candidate(ri, hay, sec.start(), sec.end(), local, out);
        }
        match line_end {
            Some(e) => e,
            // Cut short: a hit near the cut may belong to a match that runs past it.
            None if end == hay.len() => end,
            None => end.saturating_sub(LOOKAHEAD).max(from + 1),
        }
    }

    /// Judge one candidate span of rule `ri`. `example_host`: the credential is for a loopback
    /// or documentation host, so only tokens inside it count, not the credential itself.
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

impl Matcher {
    /// Tokens in a block of base64 lines whose first line is `s..e` (rule `ri`, decoder
    /// `base64-wrapped`), each reported at the line where its encoding starts. The block is
    /// decoded in bounded windows.
    fn wrapped_base64(&self, ri: usize, hay: &[u8], s: usize, e: usize, out: &mut Vec<Match>) {
        /// base64 characters decoded at a time, and how much windows overlap: more than the
        /// encoding of the longest token with a user name before it.
        const WINDOW: usize = 64 * 1024;
        const OVERLAP: usize = 1024;
        let Some(block) = decode::unwrap_base64(hay, s, e) else {
            return;
        };
        let mut inner = Vec::new();
        block.decode_windows(WINDOW, OVERLAP, |at, bytes| {
            inner.clear();
            self.scan_into(bytes, false, &mut inner);
            for m in inner.drain(..) {
                if self.rules[m.rule].rule.validator.is_none() {
                    continue;
                }
                // Three bytes are four base64 characters.
                let (start, end) = block.line_of(at + m.start / 3 * 4);
                out.push(Match {
                    rule: m.rule,
                    origin: ri,
                    start,
                    end,
                    secret: m.secret,
                    encoding: Some(Encoding::Base64),
                    organization: None,
                    weak: m.weak,
                });
            }
        });
    }
}

/// Whether a checksum-valid token's leading characters (its random part in every format
/// patrol validates) use at most two distinct characters, as in `aaaa…+ASt…` or `xxxx…JQQJ99…`.
/// Real keys come from a cryptographic generator and never look like that; test vectors built
/// by Microsoft's and patrol's own generators from one repeated character do.
fn constant_payload(token: &[u8]) -> bool {
    let head = &token[..token.len().min(32)];
    let mut seen: Vec<u8> = Vec::with_capacity(3);
    for &c in head {
        if !seen.contains(&c) {
            seen.push(c);
            if seen.len() > 2 {
                return false;
            }
        }
    }
    true
}

/// How many bytes of `raw` form a genuine token, if any.
fn validate(v: Validator, raw: &[u8], seeds: &[u64]) -> Option<usize> {
    match v {
        Validator::Crc32AdoLegacy => checksum::legacy_pat_kind(raw).map(|_| raw.len()),
        // The long form first: a valid 88-character key is reported whole, never as the
        // 84-character key its first characters also make.
        Validator::Marvin32Cask => [88, 84]
            .into_iter()
            .find(|&n| raw.len() >= n && checksum::cask_key_valid(&raw[..n])),
        Validator::Marvin32Base64 => checksum::base64_key_seed(raw, seeds).map(|_| raw.len()),
        Validator::Crc32Base62 => checksum::crc32_base62_token_valid(raw).then_some(raw.len()),
    }
}

/// Where a token of `len` characters starts in the run `s..e` when the run is the token with up
/// to `glue` letters of a command-line flag glued before it (`-p<token>`): the run must follow a
/// `-` and be at most `glue` letters longer. Whether it is a token is the validator's call.
fn after_glued_flag(hay: &[u8], s: usize, e: usize, len: usize, glue: usize) -> Option<usize> {
    let extra = (e - s).checked_sub(len)?;
    let flag = (1..=glue).contains(&extra)
        && s > 0
        && hay[s - 1] == b'-'
        && hay[s..s + extra].iter().all(u8::is_ascii_alphabetic);
    flag.then_some(s + extra)
}

/// Keep one match per (position, secret): the most confident rule's.
fn dedupe(out: &mut Vec<Match>, confidence: impl Fn(usize) -> Confidence) {
    out.sort_by(|a, b| {
        (
            a.start,
            &a.secret,
            std::cmp::Reverse(confidence(a.rule)),
            a.rule,
        )
            .cmp(&(
                b.start,
                &b.secret,
                std::cmp::Reverse(confidence(b.rule)),
                b.rule,
            ))
    });
    out.dedup_by(|later, kept| later.start == kept.start && later.secret == kept.secret);
}

/// Call `f(start, end)` for each maximal run of `class` bytes that is exactly `length` long,
/// or that becomes so once a leading escape sequence (`\n`, `\u0027`, `%3d`, …) is cut off.
///
/// Samples one byte in every `length`: any run that long contains a sampled byte, so most
/// text is skipped without being looked at.
pub fn for_each_run(hay: &[u8], class: &[bool; 256], length: usize, f: impl FnMut(usize, usize)) {
    for_each_run_of(hay, class, &[length], f)
}

/// [`for_each_run`] for several lengths (ascending) in one pass, sampling one byte in every
/// shortest length.
pub fn for_each_run_of(
    hay: &[u8],
    class: &[bool; 256],
    lengths: &[usize],
    f: impl FnMut(usize, usize),
) {
    for_each_run_in(hay, 0..hay.len(), class, lengths, f)
}

/// [`for_each_run_of`] for the runs inside `range`, which begins at the start of `hay` or at a
/// byte outside `class`, and ends at its end or at a byte outside `class` (so that no run
/// straddles either end).
fn for_each_run_in(
    hay: &[u8],
    range: std::ops::Range<usize>,
    class: &[bool; 256],
    lengths: &[usize],
    mut f: impl FnMut(usize, usize),
) {
    let n = range.end;
    let Some(&shortest) = lengths.first() else {
        return;
    };
    if shortest == 0 || n < range.start + shortest {
        return;
    }
    let mut i = range.start + shortest - 1;
    while i < n {
        if !class[hay[i] as usize] {
            i += shortest;
            continue;
        }
        let mut a = i;
        while a > 0 && class[hay[a - 1] as usize] {
            a -= 1;
        }
        let mut b = i + 1;
        while b < n && class[hay[b] as usize] {
            b += 1;
        }
        if wanted(lengths, b - a) {
            f(a, b);
        }
        // Tried even when the whole run has a wanted length: `\n` before a 52-character token
        // makes a run of 53, which a rule accepting flags glued to a token also wants.
        if b - a > shortest
            && let Some(a2) = escape_end(hay, a, class)
            && wanted(lengths, b - a2)
        {
            f(a2, b);
        }
        i = b + shortest;
    }
}

/// Whether `n` is one of `lengths` (ascending): most runs are shorter than all of them.
fn wanted(lengths: &[usize], n: usize) -> bool {
    n >= lengths[0] && n <= lengths[lengths.len() - 1] && lengths.binary_search(&n).is_ok()
}

/// If the run starting at `a` begins inside an escape sequence, where the escape ends.
fn escape_end(hay: &[u8], a: usize, class: &[bool; 256]) -> Option<usize> {
    let lo = a.saturating_sub(5);
    let at = (lo..a).rev().find(|&j| hay[j] == b'\\' || hay[j] == b'%')?;
    let len = match (hay[at], hay.get(at + 1).copied()?) {
        (b'%', _) => 3,
        (b'\\', b'u') => 6,
        (b'\\', b'x') => 4,
        (b'\\', c) if class[c as usize] => 2,
        _ => return None,
    };
    let end = at + len;
    (end > a).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(hay: &str, len: usize) -> Vec<(usize, usize)> {
        let class = byte_class("a-z2-7").unwrap();
        let mut v = Vec::new();
        for_each_run(hay.as_bytes(), &class, len, |a, b| v.push((a, b)));
        v
    }

    #[test]
    fn a_keyword_that_begins_another_does_not_hide_its_rules() {
        let rule = |id: &str, keyword: &str, pattern: &str| -> Rule {
            toml::from_str(&format!(
                "id = '{id}'\nname = 'n'\ndescription = 'd'\nkeywords = ['{keyword}']\n\
                 pattern = '{pattern}'\nseverity = 'low'\nconfidence = 'low'\n"
            ))
            .unwrap()
        };
        for order in [false, true] {
            let mut rules = vec![
                rule("short", "KEY", "KEY=(?P<secret>[a-z]+)"),
                rule("long", "KEYS", "KEYS:(?P<secret>[0-9]+)"),
            ];
            if order {
                rules.reverse();
            }
            let m = Matcher::new(rules).unwrap();
            let ids: Vec<&str> = m
                .scan(b"KEY=qwzrtk KEYS:9183746")
                .iter()
                .map(|x| m.rule(x.rule).id.as_str())
                .collect();
            assert_eq!(ids, ["short", "long"], "order {order}");
        }
    }

    #[test]
    fn the_keyword_search_stays_within_the_simd_literal_limit() {
        let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
        let n = m.keywords.as_ref().map_or(0, |k| k.patterns_len());
        assert!(
            n <= 64,
            "the built-in rules make {n} keyword spellings: the literal search's SIMD prefilter \
             (Teddy) takes at most 64 literals and beyond that falls back to a search several \
             times slower on source code; use `exact_keywords` or fewer keywords"
        );
    }

    #[test]
    fn a_rule_pattern_is_compiled_only_for_its_first_candidate() {
        let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
        fn compiled(m: &Matcher) -> Vec<&str> {
            m.rules
                .iter()
                .filter(|r| r.pattern.get().is_some())
                .map(|r| r.rule.id.as_str())
                .collect()
        }
        assert!(
            m.scan(b"fn main() {\n    println!(\"hello\");\n}\n")
                .is_empty()
        );
        assert_eq!(compiled(&m), Vec::<&str>::new());
        let (ri, keyword) = m
            .rules
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.rule.keywords.first().map(|k| (i, k.clone())))
            .expect("a rule with keywords");
        m.scan(format!("let x = 1; // {keyword}\n").as_bytes());
        let now = compiled(&m);
        assert!(now.contains(&m.rules[ri].rule.id.as_str()), "{now:?}");
        assert!(now.len() < m.rules.len() / 2, "{now:?}");
    }

    #[test]
    fn matches_handed_on_in_batches_are_those_of_one_pass() {
        use crate::detect::checksum::LegacyKind;
        use crate::fake::{FakeRng, crc32_token, identifiable_key, legacy_pat};
        let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
        let mut rng = FakeRng::new(19);
        let mut hay = String::new();
        for i in 0..1500 {
            let legacy = legacy_pat(&mut rng, LegacyKind::UserPat);
            let key = identifiable_key(&mut rng, "AZDO");
            let gh = crc32_token(&mut rng, "ghp_");
            match i % 5 {
                0 => hay.push_str(&format!("pat = \"{legacy}\"\n")),
                1 => hay.push_str(&format!(
                    "{key} {legacy} {gh} https://dev.azure.com/org{i}\n"
                )),
                2 => hay.push_str(&format!("url = https://user:{legacy}@dev.azure.com/x\n")),
                3 => hay.push_str(&format!("{legacy}{legacy}\\u0027{gh};{key}")),
                _ => hay.push_str(&format!("AZURE_DEVOPS_EXT_PAT={legacy}\nsame {legacy}\n")),
            }
        }
        let whole = m.scan_batched_vec(hay.as_bytes(), usize::MAX);
        assert!(whole.len() > 2000, "{}", whole.len());
        for batch in [1, 7, 100] {
            assert!(
                m.scan_batched_vec(hay.as_bytes(), batch) == whole,
                "batch {batch}"
            );
        }
    }

    #[test]
    fn runs_exact_length_only() {
        assert_eq!(runs("xx abcd yy", 4), vec![(3, 7)]);
        assert_eq!(runs("abcd", 4), vec![(0, 4)]);
        assert_eq!(runs("abcde", 4), vec![]);
        assert_eq!(runs("abc", 4), vec![]);
        assert_eq!(runs("ab-abcd-abcdef-abcd", 4), vec![(3, 7), (15, 19)]);
    }

    #[test]
    fn runs_after_escapes() {
        assert_eq!(runs(r"x\nabcd", 4), vec![(3, 7)]);
        assert_eq!(runs(r"x\u0027abcd", 4), vec![(7, 11)]);
        assert_eq!(runs("x%3dabcd", 4), vec![(4, 8)]);
        assert_eq!(runs("xqabcd", 4), vec![]);
    }

    #[test]
    fn runs_of_several_lengths_in_one_pass() {
        let class = byte_class("a-z2-7").unwrap();
        let mut v = Vec::new();
        for_each_run_of(b"abcd-abcdef-abc-ab", &class, &[3, 6], |a, b| {
            v.push((a, b))
        });
        assert_eq!(v, vec![(5, 11), (12, 15)]);
        let mut v = Vec::new();
        for_each_run_of(br"x\nabcdef", &class, &[4, 6], |a, b| v.push((a, b)));
        assert_eq!(v, vec![(3, 9)]);
    }

    #[test]
    fn runs_every_offset() {
        // Slide a run through all alignments relative to the sampling stride.
        for pad in 0..12 {
            let s = format!("{}{}{}", "A".repeat(pad), "abcdefg", "A".repeat(3));
            assert_eq!(runs(&s, 7), vec![(pad, pad + 7)], "pad {pad}");
        }
    }
}
