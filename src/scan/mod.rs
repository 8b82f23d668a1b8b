//! Turning one blob of bytes into hits: text/UTF-16/binary triage, one matcher pass,
//! positions, allow comments and filters. Every source (files, stdin, git) goes through here,
//! and turns the hits into findings at each place the blob is ([`hit`]).

mod hit;
mod members;

pub use hit::{Hit, Location};
use members::MemberScan;

use crate::archive::{self, Budget};
use crate::detect::decode::detect_wide;
use crate::detect::{Match, Matcher};
use crate::exclude::Excludes;
use crate::finding::{Encoding, Encodings, FingerprintKey, Secret, fingerprint, hex};
use crate::rules::Confidence;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Inline markers that silence the line they stand on (ours and those of gitleaks/trufflehog,
/// so teams can switch tools without editing code).
pub const ALLOW_MARKERS: &[&[u8]] = &[b"patrol:allow", b"gitleaks:allow", b"trufflehog:ignore"];

/// Options that shape which matches become findings.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub min_confidence: Confidence,
    /// Scan files that look binary (NUL bytes, not UTF-16) as bytes instead of skipping them.
    pub scan_binary: bool,
    /// Secret values never reported (from configuration).
    pub allow_values: Vec<String>,
    pub allow_regexes: Vec<regex::Regex>,
    /// Open archives and packages (zip, jar, nupkg, tar, gzip, …) and scan their members.
    pub archives: bool,
    /// Largest archive member read (the scan's `--max-file-size`).
    pub max_member_size: u64,
    /// Key of the fingerprints of secrets without a checksum (from the baseline, else random).
    pub fingerprint_key: FingerprintKey,
    /// The configuration's `exclude` globs, for sources that walk git trees.
    pub excludes: Excludes,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            min_confidence: Confidence::Medium,
            scan_binary: false,
            allow_values: Vec::new(),
            allow_regexes: Vec::new(),
            archives: true,
            max_member_size: 64 << 20,
            fingerprint_key: FingerprintKey::random(),
            excludes: Excludes::default(),
        }
    }
}

/// The most distinct secrets reported for one file (or blob); the rest are counted in
/// [`BlobResult::capped`]. A generated or hostile file can hold millions.
pub const MAX_FINDINGS_PER_FILE: usize = 100;

/// What became of a blob.
#[derive(Debug, Default)]
pub struct BlobResult {
    /// One hit per distinct secret (and rule): its first place and how often it occurs.
    pub hits: Vec<Hit>,
    pub binary_skipped: bool,
    /// Findings silenced by an inline allow marker or allow-list.
    pub suppressed: u64,
    /// Distinct secrets not reported because of [`MAX_FINDINGS_PER_FILE`].
    pub capped: u64,
    /// What opening the blob as an archive found, when it is one.
    pub archive: ArchiveTally,
}

/// Members read, and members (or rests of archives) not read, of an archive blob.
#[derive(Debug, Default)]
pub struct ArchiveTally {
    pub members: u64,
    /// Stopped by a decompression-bomb limit.
    pub limits: u64,
    /// Over `--max-file-size`.
    pub large: u64,
    pub unreadable: u64,
    /// One line per member not read: (`!member` suffix of the blob's path, why).
    pub notes: Vec<(String, String)>,
}

impl ArchiveTally {
    /// Add the counts to a run's summary.
    pub fn add_to(&self, s: &mut crate::finding::Summary) {
        s.archive_members += self.members;
        s.archive_limits += self.limits;
        s.skipped_large += self.large;
        s.unreadable += self.unreadable;
    }

    /// The warnings, each naming the blob as `shown` (plus the member).
    pub fn warnings<'a>(&'a self, shown: &'a str) -> impl Iterator<Item = String> + 'a {
        self.notes
            .iter()
            .map(move |(member, why)| format!("{shown}{member}: {why}"))
    }
}

/// How many leading bytes decide whether a blob is binary (as git does).
const SNIFF: usize = 8192;

impl BlobResult {
    /// Add what became of the blob to a run's summary (not its findings: the pipeline counts
    /// those once).
    pub fn add_to(&self, s: &mut crate::finding::Summary) {
        self.archive.add_to(s);
        s.skipped_binary += u64::from(self.binary_skipped);
        s.suppressed += self.suppressed;
        s.capped += self.capped;
    }

    /// The findings the hits make at `at` (those at least `opts.min_confidence` there).
    pub fn findings_at(
        &self,
        at: &Location<'_>,
        opts: &ScanOptions,
    ) -> Vec<crate::finding::Finding> {
        findings_at(&self.hits, at, opts).collect()
    }
}

/// The findings `hits` make at `at`: those at least `opts.min_confidence` there.
pub fn findings_at<'a>(
    hits: &'a [Hit],
    at: &'a Location<'_>,
    opts: &'a ScanOptions,
) -> impl Iterator<Item = crate::finding::Finding> + 'a {
    hits.iter().filter_map(|h| h.at(at, opts.min_confidence))
}

/// Scan one blob, wherever it is. An archive's members are scanned instead (unless
/// `opts.archives` is off), their hits naming the member.
pub fn scan_blob(matcher: &Matcher, bytes: &[u8], opts: &ScanOptions) -> BlobResult {
    let mut result = BlobResult::default();
    if opts.archives
        && let Some(kind) = archive::kind(bytes)
    {
        let mut budget = Budget::new(bytes.len(), opts.max_member_size);
        let mut members = MemberScan {
            matcher,
            opts,
            prefix: String::new(),
            kind,
            depth: 1,
            result: &mut result,
        };
        archive::walk(kind, bytes, &mut budget, &mut members);
        return result;
    }
    scan_text(matcher, bytes, None, None, opts, &mut result);
    result
}

/// The findings in text that is not a file's content but names or points at one (a file
/// name, the target of a symbolic link; `origin` says which), read as it stands: no archive,
/// wide-text or binary triage; lines and columns count inside the text. The findings are placed
/// at `path()`, called only when there is something to report. Also returns how many hits the
/// allow rules suppressed.
pub fn name_findings(
    matcher: &Matcher,
    text: &[u8],
    origin: &'static str,
    path: impl FnOnce() -> String,
    opts: &ScanOptions,
) -> (Vec<crate::finding::Finding>, u64) {
    let mut result = BlobResult::default();
    let hay = Hay {
        member: None,
        encoding: None,
    };
    collect(matcher, text, &hay, opts, &mut result);
    if result.hits.is_empty() {
        return (Vec::new(), result.suppressed);
    }
    let path = path();
    let at = Location {
        origin: Some(origin),
        ..Location::file(&path)
    };
    (result.findings_at(&at, opts), result.suppressed)
}

/// Text, UTF-16/UTF-32 or binary triage of one file's (or member's) bytes, then the matcher.
fn scan_text(
    matcher: &Matcher,
    bytes: &[u8],
    member: Option<&str>,
    layer: Option<Encoding>,
    opts: &ScanOptions,
    result: &mut BlobResult,
) {
    let sample = &bytes[..bytes.len().min(SNIFF)];
    let mut hay = Hay {
        member,
        encoding: layer.map(Encodings::from),
    };
    // Wide text is read transcoded and only so: its raw bytes are never matched as well.
    if let Some(wide) = detect_wide(sample) {
        let text = wide.to_utf8(bytes);
        hay.encoding = Some(Encodings::then(hay.encoding.as_ref(), wide.encoding()));
        collect(matcher, text.as_bytes(), &hay, opts, result);
        return;
    }
    if memchr::memchr(0, sample).is_some() && !opts.scan_binary {
        result.binary_skipped = true;
        return;
    }
    collect(matcher, bytes, &hay, opts, result);
}

/// Where the bytes handed to [`collect`] come from.
struct Hay<'a> {
    member: Option<&'a str>,
    /// How the bytes were decoded from the file (`utf-16le`, `gzip`, …).
    encoding: Option<Encodings>,
}

/// Turn the matcher's matches in `hay` into hits: confidence, position, allow markers and
/// lists, one hit per (rule, secret) with its count, the per-file cap.
// Long: the per-match path of every scan, kept in one closure over its per-blob state (line
// positions, the current line's facts, the secrets seen) so that a match costs no extra
// calls or allocations; the steps are in order and commented.
fn collect(
    matcher: &Matcher,
    hay: &[u8],
    from: &Hay<'_>,
    opts: &ScanOptions,
    result: &mut BlobResult,
) {
    // Built at the first match: most text has none.
    let mut pos: Option<Positions> = None;
    let mut line_facts: Option<(usize, bool, String)> = None;
    // Each (rule, secret) once: its finding's index, or `None` once the cap dropped it. A log
    // repeating one token half a million times gives one finding with that count.
    let mut seen: HashMap<(usize, String), Option<usize>> = HashMap::new();
    matcher.scan_each(hay, |mut m| {
        let rule = matcher.rule(m.rule);
        let confidence = effective_confidence(rule, &m);
        // Where the blob sits can only lower it (`Hit::confidence_at`).
        if confidence < opts.min_confidence {
            return;
        }
        let (line, column, line_start, line_end) = pos
            .get_or_insert_with(|| Positions::new(hay))
            .locate(m.start);
        let line_bytes = &hay[line_start..line_end];
        // Per line, not per match: a minified line can be megabytes long and hold thousands.
        if line_facts
            .as_ref()
            .is_none_or(|(at, _, _)| *at != line_start)
        {
            line_facts = Some((
                line_start,
                has_allow_marker(line_bytes),
                line_hash(line_bytes),
            ));
        }
        let (_, marked, hash) = line_facts.as_ref().expect("just set");
        if *marked || allowed_value(&m, opts) {
            result.suppressed += 1;
            return;
        }
        let key = (m.rule, std::mem::take(&mut m.secret));
        match seen.get(&key) {
            Some(Some(i)) => {
                result.hits[*i].occurrences += 1;
                return;
            }
            Some(None) => return,
            None if result.hits.len() >= MAX_FINDINGS_PER_FILE => {
                result.capped += 1;
                seen.insert(key, None);
                return;
            }
            None => {}
        }
        m.secret = key.1.clone();
        seen.insert(key, Some(result.hits.len()));
        // Secrets never span lines: the end is on the start's line.
        let end_line = line;
        let end_column = column + char_count(&hay[m.start..m.end]);
        let encoding = match m.encoding {
            Some(step) => Some(Encodings::then(from.encoding.as_ref(), step)),
            None => from.encoding.clone(),
        };
        let unproven = !matcher_validated(rule, &m);
        result.hits.push(Hit {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            provider: rule.provider,
            member: from.member.map(str::to_string),
            line,
            column,
            end_line,
            end_column,
            fingerprint: fingerprint(
                &rule.id,
                &m.secret,
                rule.validator.is_some(),
                &opts.fingerprint_key,
            ),
            line_hash: hash.clone(),
            secret: Secret::new(m.secret),
            confidence,
            unproven,
            severity: rule.severity,
            organization_source: m.organization.as_ref().map(|o| o.1),
            organization: m.organization.map(|o| o.0),
            encoding,
            occurrences: 1,
        });
    });
}

/// A hit's confidence wherever its blob is: its rule's; low for a checksum-valid token with a
/// constant payload (a test vector); one level lower for a credential that looks like test
/// data. (A file whose role is testing lowers a credential without a checksum once more:
/// [`Hit::confidence_at`].) A token whose checksum holds keeps its rule's confidence.
fn effective_confidence(rule: &crate::rules::Rule, m: &Match) -> Confidence {
    let lower = |c: Confidence| match c {
        Confidence::High => Confidence::Medium,
        _ => Confidence::Low,
    };
    let checksummed = matcher_validated(rule, m);
    if m.weak && checksummed {
        // A checksum-valid test vector (constant payload): shown only at low confidence.
        return Confidence::Low;
    }
    let mut c = rule.confidence;
    if m.weak {
        c = lower(c);
    }
    c
}

/// Whether the reported secret was proven by a checksum (its own rule's or a token's found
/// inside a decoded credential, which is then reported under the token's rule).
fn matcher_validated(rule: &crate::rules::Rule, m: &Match) -> bool {
    rule.validator.is_some() || m.rule != m.origin
}

/// Whether a path names a file whose role is testing: a `test`/`tests`/`spec`/`__tests__`/
/// `testdata`/`fixtures` directory, or a file named like `test_x.py`, `x_test.go`,
/// `x.test.ts`, `x.spec.js`, `XTests.cs`, `test.c`.
pub fn is_test_path(path: &str) -> bool {
    let lower = path.replace('\\', "/").to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let file = parts.pop().unwrap_or("");
    const DIRS: &[&str] = &[
        "test",
        "tests",
        "testing",
        "spec",
        "specs",
        "__tests__",
        "__mocks__",
        "testdata",
        "test-data",
        "test_data",
        "fixtures",
        "mocks",
        "testlib",
        "libtest",
        "tunit",
        "unittests",
    ];
    if parts
        .iter()
        .any(|d| DIRS.contains(d) || d.ends_with(".tests") || d.ends_with("tests"))
    {
        return true;
    }
    let stem = file.split('.').next().unwrap_or("");
    stem == "test"
        || stem.starts_with("test_")
        || stem.starts_with("test-")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("-test")
        || stem.ends_with("tests")
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.contains("_spec.")
}

fn has_allow_marker(line: &[u8]) -> bool {
    ALLOW_MARKERS
        .iter()
        .any(|mk| memchr::memmem::find(line, mk).is_some())
}

fn allowed_value(m: &Match, opts: &ScanOptions) -> bool {
    opts.allow_values.iter().any(|v| v == &m.secret)
        || opts.allow_regexes.iter().any(|r| r.is_match(&m.secret))
}

/// Hash of the trimmed line (first 16 hex digits), stable when the line moves.
fn line_hash(line: &[u8]) -> String {
    let trimmed = line.trim_ascii();
    let capped = &trimmed[..trimmed.len().min(4096)];
    hex(&Sha256::digest(capped)[..8])
}

/// Incremental offset → (line, column) for ascending offsets. Each byte is looked at a
/// bounded number of times however many matches share a line, so a single huge line with
/// many secrets costs linear, not quadratic, time.
struct Positions<'a> {
    hay: &'a [u8],
    /// The last offset located, and its line, line start and column.
    offset: usize,
    line: usize,
    line_start: usize,
    column: usize,
    /// End of the line starting at `line_start`, once looked up.
    line_end: Option<usize>,
}

impl<'a> Positions<'a> {
    fn new(hay: &'a [u8]) -> Self {
        Positions {
            hay,
            offset: 0,
            line: 1,
            line_start: 0,
            column: 1,
            line_end: None,
        }
    }

    /// 1-based line and column of `at`, and the span of its line.
    fn locate(&mut self, at: usize) -> (usize, usize, usize, usize) {
        if at < self.offset {
            *self = Positions::new(self.hay);
        }
        let seg = &self.hay[self.offset..at];
        match memchr::memrchr(b'\n', seg) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', seg).count();
                self.line_start = self.offset + last + 1;
                self.column = 1 + char_count(&self.hay[self.line_start..at]);
                self.line_end = None;
            }
            None => self.column += char_count(seg),
        }
        self.offset = at;
        let hay = self.hay;
        let line_end = *self
            .line_end
            .get_or_insert_with(|| memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |i| at + i));
        (self.line, self.column, self.line_start, line_end)
    }
}

/// Unicode scalar values in UTF-8 bytes (continuation bytes do not count).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}
