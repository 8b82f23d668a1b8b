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
    for m in matches {
        let rule = matcher.rule(m.rule);
        if rule.confidence < opts.min_confidence {
            continue;
        }
        let (line, column, line_start, line_end) = pos.locate(m.start);
        let line_bytes = &hay[line_start..line_end];
        if allowed(line_bytes, &m, opts) {
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
            line_hash: line_hash(line_bytes),
            secret: Secret::new(m.secret),
            confidence: rule.confidence,
            severity: rule.severity,
            organization: m.organization,
            encoding,
            commit: None,
            verification: Verification::NotChecked,
        });
    }
}

fn allowed(line: &[u8], m: &Match, opts: &ScanOptions) -> bool {
    ALLOW_MARKERS
        .iter()
        .any(|mk| memchr::memmem::find(line, mk).is_some())
        || opts.allow_values.iter().any(|v| v == &m.secret)
        || opts.allow_regexes.iter().any(|r| r.is_match(&m.secret))
}

/// Hash of the trimmed line (first 16 hex digits), stable when the line moves.
fn line_hash(line: &[u8]) -> String {
    let trimmed = line.trim_ascii();
    let capped = &trimmed[..trimmed.len().min(4096)];
    hex(&Sha256::digest(capped)[..8])
}

/// Incremental offset → (line, column) for ascending offsets.
struct Positions<'a> {
    hay: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Positions<'a> {
    fn new(hay: &'a [u8]) -> Self {
        Positions {
            hay,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// 1-based line and column of `at`, and the span of its line.
    fn locate(&mut self, at: usize) -> (usize, usize, usize, usize) {
        if at < self.offset {
            *self = Positions::new(self.hay);
        }
        for nl in memchr::memchr_iter(b'\n', &self.hay[self.offset..at]) {
            self.line += 1;
            self.line_start = self.offset + nl + 1;
        }
        self.offset = at;
        let column = 1 + char_count(&self.hay[self.line_start..at]);
        let line_end = memchr::memchr(b'\n', &self.hay[at..]).map_or(self.hay.len(), |i| at + i);
        (self.line, column, self.line_start, line_end)
    }
}

/// Unicode scalar values in UTF-8 bytes (continuation bytes do not count).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}
