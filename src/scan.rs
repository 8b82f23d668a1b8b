//! Turning one blob of bytes into findings: text/UTF-16/binary triage, one matcher pass,
//! positions, allow comments and filters. Every source (files, stdin, git) goes through here.

use crate::detect::decode::{Utf16, detect_utf16, utf16_to_utf8};
use crate::detect::{Match, Matcher};
use crate::finding::{Finding, Secret, Verification, fingerprint, hex};
use crate::rules::Confidence;
use sha2::{Digest, Sha256};

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
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            min_confidence: Confidence::Medium,
            scan_binary: false,
            allow_values: Vec::new(),
            allow_regexes: Vec::new(),
        }
    }
}

/// What became of a blob.
#[derive(Debug, Default)]
pub struct BlobResult {
    pub findings: Vec<Finding>,
    pub binary_skipped: bool,
    /// Findings silenced by an inline allow marker or allow-list.
    pub suppressed: u64,
}

/// How many leading bytes decide whether a blob is binary (as git does).
const SNIFF: usize = 8192;

/// Scan one blob. `path` is how findings will name it.
pub fn scan_blob(matcher: &Matcher, bytes: &[u8], path: &str, opts: &ScanOptions) -> BlobResult {
    let sample = &bytes[..bytes.len().min(SNIFF)];
    let mut result = BlobResult::default();
    if memchr::memchr(0, sample).is_some() {
        if let Some(order) = detect_utf16(sample) {
            let text = utf16_to_utf8(bytes, order);
            let enc = match order {
                Utf16::Le => "utf-16le",
                Utf16::Be => "utf-16be",
            };
            collect(matcher, text.as_bytes(), path, Some(enc), opts, &mut result);
            return result;
        }
        if !opts.scan_binary {
            result.binary_skipped = true;
            return result;
        }
    }
    collect(matcher, bytes, path, None, opts, &mut result);
    result
}

fn collect(
    matcher: &Matcher,
    hay: &[u8],
    path: &str,
    text_encoding: Option<&str>,
    opts: &ScanOptions,
    result: &mut BlobResult,
) {
    let matches = matcher.scan(hay);
    if matches.is_empty() {
        return;
    }
    let mut pos = Positions::new(hay);
    let mut line_facts: Option<(usize, bool, String)> = None;
    for m in matches {
        let rule = matcher.rule(m.rule);
        if rule.confidence < opts.min_confidence {
            continue;
        }
        let (line, column, line_start, line_end) = pos.locate(m.start);
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
            continue;
        }
        // Secrets never span lines: the end is on the start's line.
        let end_line = line;
        let end_column = column + char_count(&hay[m.start..m.end]);
        let encoding = match (m.encoding, text_encoding) {
            (Some(a), Some(b)) => Some(format!("{b}+{a}")),
            (Some(a), None) => Some(a.to_string()),
            (None, b) => b.map(str::to_string),
        };
        result.findings.push(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            provider: rule.provider.clone(),
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            fingerprint: fingerprint(&rule.id, &m.secret),
            line_hash: hash.clone(),
            secret: Secret::new(m.secret),
            confidence: rule.confidence,
            severity: rule.severity,
            organization_source: m.organization.as_ref().map(|o| o.1),
            organization: m.organization.map(|o| o.0),
            encoding,
            commit: None,
            verification: Verification::NotChecked,
        });
    }
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
