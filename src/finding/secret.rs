//! Secret values and their fingerprints: a [`Secret`] never shows itself by accident, and a
//! fingerprint names a secret without holding it (keyed for secrets without a checksum).

use sha2::{Digest, Sha256};

/// A secret value. Its `Debug` and `Display` never show it: use [`Secret::expose`] on purpose.
/// The flag marks a value that is already a redacted form (read back from a report by
/// `patrol merge`), which is shown as it is.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Secret(String, bool);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s, false)
    }

    /// A secret known only by the redacted form a report showed (`abcd…`).
    pub fn redacted_form(shown: String) -> Self {
        Secret(shown, true)
    }

    /// Whether `shown` is what [`Secret::redacted`] makes: at most 4 characters and `…`.
    pub fn looks_redacted(shown: &str) -> bool {
        shown.ends_with('…') && shown.chars().count() <= 5
    }

    /// The raw secret. Call only where the user asked for it (`--show-secrets`) or to verify it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret's first [`shown_chars`] characters and an ellipsis (`…` alone for a secret
    /// under 8 characters).
    pub fn redacted(&self) -> String {
        if self.1 {
            return self.0.clone();
        }
        let head: String = self
            .0
            .chars()
            .take(shown_chars(self.0.chars().count()))
            .collect();
        format!("{head}…")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// How many leading characters of a secret of `len` characters a redacted form shows: a
/// quarter, at most 4, and none under 8 characters. Never more than half, so that a short
/// password is not given away by its own redaction; a 52-character PAT still shows 4.
pub fn shown_chars(len: usize) -> usize {
    if len < 8 { 0 } else { (len / 4).min(4) }
}

/// The key of the fingerprints of secrets that carry no checksum (passwords, generic
/// credentials). It lives in the baseline file (`fingerprint_key`); a run without a baseline
/// draws a fresh one, so such fingerprints are then stable only within that run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FingerprintKey([u8; 32]);

impl FingerprintKey {
    /// A new key from the operating system's random source.
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system provides random bytes");
        FingerprintKey(k)
    }

    /// A key from its 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(FingerprintKey(k))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

// A debug print of options must not reveal the key.
impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

impl Default for FingerprintKey {
    fn default() -> Self {
        FingerprintKey::random()
    }
}

/// Names a secret without revealing it (hex, 64 digits).
///
/// A token with a checksum (`checksummed`) is too long and random to guess, so its fingerprint
/// is a plain SHA-256 of `rule_id:secret`, the same everywhere and in every run. Any other
/// secret may be a short password that a plain hash would give away to a few guesses, so its
/// fingerprint is HMAC-SHA256 under `key`: without the key, nothing can be tried against it.
pub fn fingerprint(rule_id: &str, secret: &str, checksummed: bool, key: &FingerprintKey) -> String {
    if checksummed {
        plain_fingerprint(rule_id, secret)
    } else {
        hex(&hmac_sha256(
            &key.0,
            &[rule_id.as_bytes(), b":", secret.as_bytes()],
        ))
    }
}

/// SHA-256 (hex) of `rule_id:secret`: the fingerprint of checksummed tokens, and of every
/// secret in baselines written before fingerprints were keyed.
pub fn plain_fingerprint(rule_id: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update(b":");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`; the key fits one block as is.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, b) in key.iter().enumerate() {
        ipad[i] ^= b;
        opad[i] ^= b;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: key "Jefe" (zero-padded, which HMAC does anyway).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex(&hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn redaction_never_shows_more_than_a_quarter() {
        for len in 0..100 {
            let s = Secret::new("x".repeat(len));
            let shown = s.redacted().chars().count() - 1;
            assert!(shown <= 4 && shown * 2 <= len, "{len}: {shown}");
            assert_eq!(shown == 0, len < 8, "{len}");
        }
        assert_eq!(Secret::new("Summer2024!".into()).redacted(), "Su…");
        assert_eq!(Secret::new("hunter2".into()).redacted(), "…");
    }

    #[test]
    fn password_fingerprints_are_keyed_and_token_fingerprints_are_not() {
        let (a, b) = (FingerprintKey::random(), FingerprintKey::random());
        let pw = "Summer2024!";
        assert_eq!(fingerprint("r", pw, true, &a), plain_fingerprint("r", pw));
        assert_ne!(fingerprint("r", pw, false, &a), plain_fingerprint("r", pw));
        assert_ne!(
            fingerprint("r", pw, false, &a),
            fingerprint("r", pw, false, &b)
        );
        assert_eq!(
            fingerprint("r", pw, false, &a),
            fingerprint("r", pw, false, &a)
        );
        assert_eq!(FingerprintKey::from_hex(&a.to_hex()), Some(a));
        assert_eq!(format!("{a:?}"), "FingerprintKey(…)");
    }
}
