//! base64: a captured value decoded, and base64 broken into lines joined again.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// Standard alphabet, padding optional (credentials are often pasted without it).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Base64 text decoded as UTF-8, less one trailing newline: `echo $PAT | base64` encodes the
/// newline `echo` adds, and the token is still the text before it.
pub(super) fn base64_text(raw: &[u8]) -> Option<String> {
    let mut text = String::from_utf8(B64.decode(raw).ok()?).ok()?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Some(text)
}

/// base64 that was broken into lines, joined again.
pub struct WrappedBase64 {
    /// The base64 text of every line, without line breaks, indentation or padding.
    pub text: Vec<u8>,
    /// Per line: where it starts in `text`, and its span in the scanned text.
    pub lines: Vec<(usize, usize, usize)>,
}

impl WrappedBase64 {
    /// The scanned text's span of the line holding `text[at]`.
    pub fn line_of(&self, at: usize) -> (usize, usize) {
        let i = self.lines.partition_point(|l| l.0 <= at).saturating_sub(1);
        (self.lines[i].1, self.lines[i].2)
    }

    /// Decode `text` in windows of at most `window` base64 characters that overlap by
    /// `overlap` (both multiples of 4), so a token across a window's edge is whole in the next
    /// one; `f` gets each window's start in `text` and its bytes. A decoding never holds more
    /// than three quarters of a window.
    pub fn decode_windows(&self, window: usize, overlap: usize, mut f: impl FnMut(usize, &[u8])) {
        let mut buf = Vec::with_capacity(window / 4 * 3);
        let mut at = 0;
        loop {
            let end = (at + window).min(self.text.len());
            let mut piece = &self.text[at..end];
            // A last group of one character carries no byte.
            if piece.len() % 4 == 1 {
                piece = &piece[..piece.len() - 1];
            }
            buf.clear();
            if B64.decode_vec(piece, &mut buf).is_ok() {
                f(at, &buf);
            }
            if end == self.text.len() {
                return;
            }
            at = end - overlap;
        }
    }
}

fn b64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Where a run of base64 characters ends.
fn b64_end(hay: &[u8], from: usize) -> usize {
    hay[from..]
        .iter()
        .position(|&b| !b64_byte(b))
        .map_or(hay.len(), |i| from + i)
}

/// The offset just past a line break at `at` (`\n` or `\r\n`) and the next line's indentation.
fn next_line(hay: &[u8], at: usize) -> Option<usize> {
    let mut p = at;
    if hay.get(p) == Some(&b'\r') {
        p += 1;
    }
    if hay.get(p) != Some(&b'\n') {
        return None;
    }
    p += 1;
    while matches!(hay.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    Some(p)
}

/// Whether the base64 run `s..e` continues one of the same width on the line before (then the
/// block it belongs to was joined from an earlier line).
fn continues_block(hay: &[u8], s: usize, width: usize) -> bool {
    let mut p = s;
    while p > 0 && matches!(hay[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p == 0 || hay[p - 1] != b'\n' {
        return false;
    }
    p -= 1;
    if p > 0 && hay[p - 1] == b'\r' {
        p -= 1;
    }
    let start = hay[..p]
        .iter()
        .rposition(|&b| !b64_byte(b))
        .map_or(0, |i| i + 1);
    p - start == width
}

/// The most base64 characters joined from one wrapped block; a longer block is read up to here.
const WRAPPED_MAX: usize = 4 << 20;

/// Join a block of base64 lines that starts with the run `s..e`, which must end its line: the
/// lines after it of the same width, then a shorter last one (and its `=` padding), each
/// indented or not. `None` when the run is not a block's first line or no line follows.
pub fn unwrap_base64(hay: &[u8], s: usize, e: usize) -> Option<WrappedBase64> {
    let width = e - s;
    if width < 4 || continues_block(hay, s, width) {
        return None;
    }
    let mut next = next_line(hay, e)?;
    let mut text = hay[s..e].to_vec();
    let mut lines = vec![(0, s, e)];
    loop {
        let end = b64_end(hay, next);
        let len = end - next;
        let closes = len < width;
        let mut after = end;
        while closes && after < hay.len() && hay[after] == b'=' && after - end < 2 {
            after += 1;
        }
        // A line of the block ends with it: `base64` writes nothing else on the line.
        let line_ends = after == hay.len() || matches!(hay[after], b'\r' | b'\n');
        if len == 0 || len > width || !line_ends {
            break;
        }
        lines.push((text.len(), next, end));
        text.extend_from_slice(&hay[next..end]);
        if closes || text.len() >= WRAPPED_MAX {
            break;
        }
        match next_line(hay, end) {
            Some(n) => next = n,
            None => break,
        }
    }
    (lines.len() > 1).then_some(WrappedBase64 { text, lines })
}

/// The whole value when a base64 capture is the first line of a block wrapped at 64 or 76
/// columns (`Authorization: Basic` followed by the rest of `base64`'s output on the next line):
/// decoding the first line alone would judge a cut credential. Small blocks only: credentials
/// are short.
pub fn wrapped_value(hay: &[u8], s: usize, e: usize) -> Option<Vec<u8>> {
    const MAX: usize = 4096;
    if !matches!(e - s, 64 | 76) {
        return None;
    }
    let block = unwrap_base64(hay, s, e)?;
    (block.text.len() <= MAX).then_some(block.text)
}
