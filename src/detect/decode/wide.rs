//! UTF-16 and UTF-32 text: told from bytes (with or without a byte-order mark) and turned into
//! UTF-8.

use crate::finding::Encoding;

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf16 {
    Le,
    Be,
}

/// Text in a wide encoding (UTF-16 or UTF-32), which is transcoded to UTF-8 before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideText {
    Utf16(Utf16),
    Utf32(Utf16),
}

impl WideText {
    /// The encoding as findings give it.
    pub fn encoding(self) -> Encoding {
        match self {
            WideText::Utf16(Utf16::Le) => Encoding::Utf16Le,
            WideText::Utf16(Utf16::Be) => Encoding::Utf16Be,
            WideText::Utf32(Utf16::Le) => Encoding::Utf32Le,
            WideText::Utf32(Utf16::Be) => Encoding::Utf32Be,
        }
    }

    /// The whole text as UTF-8, its byte-order mark dropped and invalid units replaced by
    /// U+FFFD. The result is at most 1.5 times the input's size (a UTF-16 unit of 2 bytes
    /// becomes at most 3), so the file size limit bounds it too.
    pub fn to_utf8(self, bytes: &[u8]) -> String {
        match self {
            WideText::Utf16(order) => utf16_to_utf8(bytes, order),
            WideText::Utf32(order) => utf32_to_utf8(bytes, order),
        }
    }
}

/// Recognise UTF-16 or UTF-32 text from the first bytes of a file: by a byte-order mark (with
/// or without NUL bytes after it: UTF-16 of a non-Latin script may have none), else by NUL
/// bytes that fall on one side of each 2-byte unit only, in text that decodes cleanly.
pub fn detect_wide(sample: &[u8]) -> Option<WideText> {
    if sample.starts_with(&[0xFF, 0xFE, 0, 0]) && utf32_clean(sample, Utf16::Le) {
        return Some(WideText::Utf32(Utf16::Le));
    }
    if sample.starts_with(&[0, 0, 0xFE, 0xFF]) && utf32_clean(sample, Utf16::Be) {
        return Some(WideText::Utf32(Utf16::Be));
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Some(WideText::Utf16(Utf16::Le));
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Some(WideText::Utf16(Utf16::Be));
    }
    // Without a BOM, wide text of any script has NULs (line breaks and spaces at least).
    memchr::memchr(0, sample)?;
    detect_utf16(sample).map(WideText::Utf16)
}

/// Recognise UTF-16 without a byte-order mark by where its NUL bytes fall: in mostly-ASCII
/// text the high byte of almost every unit is zero; in text of another script (Cyrillic, CJK,
/// …) only the units of spaces, line breaks and ASCII are, but still on one side only, and the
/// whole sample must then decode as UTF-16 with hardly any control characters.
pub fn detect_utf16(sample: &[u8]) -> Option<Utf16> {
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Some(Utf16::Le);
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Some(Utf16::Be);
    }
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return None;
    }
    let (mut even_nul, mut odd_nul) = (0usize, 0usize);
    for p in sample.chunks_exact(2) {
        even_nul += usize::from(p[0] == 0);
        odd_nul += usize::from(p[1] == 0);
    }
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 <= pairs {
        return Some(Utf16::Le);
    }
    if even_nul * 10 >= pairs * 7 && odd_nul * 10 <= pairs {
        return Some(Utf16::Be);
    }
    // Mostly non-ASCII: NULs on one side (a unit U+xx00 puts one on the other now and then).
    let order = if odd_nul >= 4 && even_nul * 50 <= odd_nul {
        Utf16::Le
    } else if even_nul >= 4 && odd_nul * 50 <= even_nul {
        Utf16::Be
    } else {
        return None;
    };
    utf16_clean(sample, order).then_some(order)
}

/// Whether a sample decodes as UTF-16 in `order` with no unpaired surrogate (but one cut off
/// at its end) and at most 1 % control characters other than tab, line breaks and form feed.
fn utf16_clean(sample: &[u8], order: Utf16) -> bool {
    let units: Vec<u16> = sample
        .chunks_exact(2)
        .map(|p| match order {
            Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
            Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
        })
        .collect();
    let (mut chars, mut odd) = (0usize, 0usize);
    let mut decoded = char::decode_utf16(units.iter().copied()).peekable();
    while let Some(r) = decoded.next() {
        match r {
            Ok(c) => {
                chars += 1;
                odd += usize::from(unusual(c));
            }
            // A surrogate pair cut by the end of the sample is not a fault of the text.
            Err(_) if decoded.peek().is_none() => {}
            Err(_) => return false,
        }
    }
    chars > 0 && odd * 100 <= chars
}

/// Whether a sample with a UTF-32 byte-order mark holds only Unicode scalar values, mostly not
/// control characters (else it is UTF-16 whose first character is U+0000, or binary).
fn utf32_clean(sample: &[u8], order: Utf16) -> bool {
    let (mut chars, mut odd) = (0usize, 0usize);
    for q in sample.chunks_exact(4) {
        match char::from_u32(utf32_unit(q, order)) {
            Some(c) => {
                chars += 1;
                odd += usize::from(unusual(c));
            }
            None => return false,
        }
    }
    odd * 100 <= chars
}

fn utf32_unit(q: &[u8], order: Utf16) -> u32 {
    let b = [q[0], q[1], q[2], q[3]];
    match order {
        Utf16::Le => u32::from_le_bytes(b),
        Utf16::Be => u32::from_be_bytes(b),
    }
}

/// A character that text hardly ever holds: C0/C1 controls other than tab, line breaks and form
/// feed, and the non-characters U+FFFE/U+FFFF.
fn unusual(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
        || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Transcode UTF-16 bytes to UTF-8 (unpaired surrogates become U+FFFD; a BOM is dropped).
pub fn utf16_to_utf8(bytes: &[u8], order: Utf16) -> String {
    let units = bytes.chunks_exact(2).map(|p| match order {
        Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
        Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
    });
    let mut s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if s.starts_with('\u{FEFF}') {
        s.drain(..3);
    }
    s
}

/// Transcode UTF-32 bytes to UTF-8 (invalid units become U+FFFD; a BOM is dropped).
pub fn utf32_to_utf8(bytes: &[u8], order: Utf16) -> String {
    let mut s: String = bytes
        .chunks_exact(4)
        .map(|q| char::from_u32(utf32_unit(q, order)).unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if s.starts_with('\u{FEFF}') {
        s.drain(..3);
    }
    s
}
