//! Decoders: turn what a credential rule captured (base64, a percent-encoded URL password, a
//! config value) into the text that is searched for tokens, and UTF-16 text into UTF-8.

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
    pub encoding: Option<&'static str>,
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
                encoding: Some("base64"),
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
                encoding: Some("base64"),
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
                encoding: if identity { None } else { Some("url") },
            })
        }
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

/// Recognise UTF-16 by its byte-order mark, or by NULs in every other byte of mostly-ASCII text.
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
    // Mostly-ASCII UTF-16: the high byte of almost every unit is zero, the low byte almost never.
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 <= pairs {
        Some(Utf16::Le)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 10 <= pairs {
        Some(Utf16::Be)
    } else {
        None
    }
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
}
