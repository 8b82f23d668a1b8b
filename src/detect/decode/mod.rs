//! Decoders: turn what a credential rule captured (base64, a percent-encoded URL password, a
//! config value) into the text that is searched for tokens, and UTF-16 text into UTF-8.
//!
//! Parts by encoding: [`b64`] (base64, plain and wrapped over lines) and [`wide`]
//! (UTF-16/UTF-32 text); percent-encoding and the credential decoders' judgement are here.

mod b64;
mod wide;

use b64::base64_text;
pub use b64::{WrappedBase64, unwrap_base64, wrapped_value};
pub use wide::{Utf16, WideText, detect_utf16, detect_wide, utf16_to_utf8, utf32_to_utf8};

use crate::finding::Encoding;
use crate::rules::Decoder;

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
