//! Decoders: turn what a credential rule captured (base64, a percent-encoded URL password, a
//! config value) into the text that is searched for tokens, and UTF-16 text into UTF-8.

use crate::finding::Encoding;
use crate::rules::Decoder;
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

/// What a decoder produced. Its `Debug` shows the text redacted.
#[derive(Clone)]
pub struct Decoded {
    /// The decoded text: `user:password` for credentials, else the password.
    pub text: String,
    /// The password part, judged by [`Decoded::verdict`].
    pub password: String,
    /// The user name, when the decoder sees one (`user:password`).
    pub user: Option<String>,
    /// True when `text` is byte-for-byte the captured text, so inner offsets map back exactly.
    pub identity: bool,
    pub encoding: Option<Encoding>,
}

// A panic message or debug print must not reveal the credential.
impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::finding::Secret;
        f.debug_struct("Decoded")
            .field("text", &Secret::new(self.text.clone()))
            .field("password", &Secret::new(self.password.clone()))
            .field("user", &self.user.as_ref().map(|u| Secret::new(u.clone())))
            .field("identity", &self.identity)
            .field("encoding", &self.encoding)
            .finish()
    }
}

impl Decoded {
    /// Whether the credential could be a real one: placeholders, templates and published
    /// samples are not; test-data conventions make it weak (see `plausible`).
    pub fn verdict(&self) -> super::plausible::Verdict {
        if super::placeholder::is_placeholder(&self.password) {
            return super::plausible::Verdict::NotSecret;
        }
        super::plausible::judge(self.user.as_deref(), &self.password)
    }
}

/// Base64 text decoded as UTF-8, less one trailing newline: `echo $PAT | base64` encodes the
/// newline `echo` adds, and the token is still the text before it.
fn base64_text(raw: &[u8]) -> Option<String> {
    let mut text = String::from_utf8(B64.decode(raw).ok()?).ok()?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Some(text)
}

/// Whether base64 text decodes to a JSON value or a JWT segment rather than a credential: a
/// JWT header or payload (`eyJ…` is the base64 of `{"`) after `Basic` is a bearer token put in
/// the wrong scheme, or a test of one, never `user:password`.
fn json_like(raw: &[u8], text: &str) -> bool {
    raw.starts_with(b"eyJ") || text.trim_start().starts_with(['{', '['])
}

/// Printable `user:password` text: no control characters (tabs and line breaks included), and
/// no JSON punctuation around the colon (`"a":"b"` is a JSON member, not a credential).
fn credential_text(text: &str) -> Option<(&str, &str)> {
    if text.chars().any(char::is_control) {
        return None;
    }
    let (user, password) = text.split_once(':')?;
    if user.ends_with('"') && password.starts_with('"') {
        return None;
    }
    Some((user, password))
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control())
}

/// Apply a decoder to captured bytes; `None` when they do not decode to printable text.
pub fn decode(decoder: Decoder, raw: &[u8]) -> Option<Decoded> {
    match decoder {
        Decoder::Base64Credentials => {
            let text = base64_text(raw)?;
            if !printable(&text) || json_like(raw, &text) {
                return None;
            }
            let (user, password) = credential_text(&text)?;
            Some(Decoded {
                user: Some(user.to_string()),
                password: password.to_string(),
                text,
                identity: false,
                encoding: Some(Encoding::Base64),
            })
        }
        Decoder::Base64 => {
            let text = base64_text(raw)?;
            if !printable(&text) {
                return None;
            }
            Some(Decoded {
                user: None,
                password: text.clone(),
                text,
                identity: false,
                encoding: Some(Encoding::Base64),
            })
        }
        Decoder::UrlUserinfo => {
            let text = percent_decode(raw)?;
            let identity = text.as_bytes() == raw;
            Some(Decoded {
                user: None,
                password: text.clone(),
                text,
                identity,
                encoding: (!identity).then_some(Encoding::Url),
            })
        }
        // Needs the text around the capture: see [`unwrap_base64`].
        Decoder::Base64Wrapped => None,
        Decoder::Plain => {
            let text = String::from_utf8(raw.to_vec()).ok()?;
            Some(Decoded {
                user: None,
                password: text.clone(),
                text,
                identity: true,
                encoding: None,
            })
        }
    }
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

fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| printable(s))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_credentials() {
        let d = decode(Decoder::Base64Credentials, b"ZGVwbG95OlRyMHViNGRvciYzeA==").unwrap();
        assert_eq!(d.text, "deploy:Tr0ub4dor&3x");
        assert_eq!(d.password, "Tr0ub4dor&3x");
        assert!(
            decode(Decoder::Base64Credentials, b"YWJjZGVm").is_none(),
            "no colon"
        );
        // `echo "deploy:Tr0ub4dor&3x" | base64`: the newline is not part of the password.
        let d = decode(Decoder::Base64Credentials, b"ZGVwbG95OlRyMHViNGRvciYzeAo=").unwrap();
        assert_eq!(d.password, "Tr0ub4dor&3x");
    }

    #[test]
    fn json_and_jwt_are_not_credentials() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for text in [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"1234567890","name":"x"}"#,
            r#"["a:b"]"#,
            "user:pass\tword",
        ] {
            assert!(
                decode(Decoder::Base64Credentials, b64(text).as_bytes()).is_none(),
                "{text}"
            );
        }
        // A JWT header written without padding, as JWTs are.
        assert!(decode(Decoder::Base64Credentials, b"eyJhbGciOiJIUzI1NiJ9").is_none());
        assert!(
            decode(
                Decoder::Base64Credentials,
                b64("deploy:Tr0ub4dor&3x").as_bytes()
            )
            .is_some()
        );
    }

    #[test]
    fn percent() {
        let d = decode(Decoder::UrlUserinfo, b"Xk9%40q2").unwrap();
        assert_eq!(d.text, "Xk9@q2");
        assert!(!d.identity);
        assert!(decode(Decoder::UrlUserinfo, b"a%zz").is_none());
    }

    #[test]
    fn utf16_round_trip() {
        let text = "héllo token";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(detect_utf16(&le), Some(Utf16::Le));
        assert_eq!(detect_utf16(&be), Some(Utf16::Be));
        assert_eq!(utf16_to_utf8(&le, Utf16::Le), text);
        assert_eq!(utf16_to_utf8(&be, Utf16::Be), text);
        assert_eq!(detect_utf16(b"plain ascii text here"), None);
    }

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn wide_text_by_bom_without_nul() {
        // Cyrillic and CJK: no unit has a zero byte.
        let text = "\u{FEFF}Пароль\u{2028}密码";
        let le = utf16le(text);
        assert!(!le.contains(&0));
        assert_eq!(detect_wide(&le), Some(WideText::Utf16(Utf16::Le)));
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(detect_wide(&be), Some(WideText::Utf16(Utf16::Be)));
        assert_eq!(
            WideText::Utf16(Utf16::Le).to_utf8(&le),
            "Пароль\u{2028}密码"
        );
        // UTF-8 text has no NUL and no BOM of a wide encoding.
        assert_eq!(detect_wide("Пароль 密码".as_bytes()), None);
    }

    #[test]
    fn utf16_without_bom_of_another_script() {
        let text = "Пароль для сборки: значение ниже\r\nтокен = abc\r\n".repeat(20);
        let le = utf16le(&text);
        assert_eq!(detect_wide(&le), Some(WideText::Utf16(Utf16::Le)));
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(detect_wide(&be), Some(WideText::Utf16(Utf16::Be)));
        // Binary whose NULs fall on one side only but whose units are controls is not text.
        let binary: Vec<u8> = (0..400u32)
            .flat_map(|i| {
                [
                    (i % 31) as u8 + 1,
                    if i % 3 == 0 { 0 } else { (i % 5) as u8 + 1 },
                ]
            })
            .collect();
        assert_eq!(detect_wide(&binary), None);
        // NULs on both sides: binary.
        let mixed: Vec<u8> = (0..400u32)
            .flat_map(|i| [(i % 7) as u8, (i % 5) as u8])
            .collect();
        assert_eq!(detect_wide(&mixed), None);
    }

    #[test]
    fn utf32_with_bom() {
        let text = "\u{FEFF}token: 密码\n";
        let le: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(detect_wide(&le), Some(WideText::Utf32(Utf16::Le)));
        assert_eq!(detect_wide(&be), Some(WideText::Utf32(Utf16::Be)));
        assert_eq!(WideText::Utf32(Utf16::Le).to_utf8(&le), "token: 密码\n");
        assert_eq!(WideText::Utf32(Utf16::Be).to_utf8(&be), "token: 密码\n");
        // UTF-16LE whose first character is U+0000: not UTF-32.
        let u16 = utf16le("\u{FEFF}\u{0}ab cd ef gh");
        assert_eq!(detect_wide(&u16), Some(WideText::Utf16(Utf16::Le)));
    }
}
