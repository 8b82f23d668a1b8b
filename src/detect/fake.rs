//! Fake-token generator for tests, fixtures and users checking their pipeline
//! (`patrol fake-token`). Tokens have genuine checksums but random payloads from a seeded
//! generator, so they authorise nothing; "broken" variants fail the checksum on purpose.

use super::checksum::{self, LegacyKind};

/// A small deterministic generator (SplitMix64): the same seed gives the same tokens.
#[derive(Debug, Clone)]
pub struct FakeRng(u64);

impl FakeRng {
    pub fn new(seed: u64) -> Self {
        FakeRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, alphabet: &[u8]) -> u8 {
        alphabet[(self.next_u64() % alphabet.len() as u64) as usize]
    }
}

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A legacy 52-character PAT with a valid checksum.
pub fn legacy_pat(rng: &mut FakeRng, kind: LegacyKind) -> String {
    let mut payload = [0u8; 28];
    for b in &mut payload {
        *b = rng.next_u64() as u8;
    }
    checksum::make_legacy(&payload, kind)
}

/// An identifiable (84-character) key with the given 4-character provider signature.
pub fn identifiable_key(rng: &mut FakeRng, signature: &str) -> String {
    assert_eq!(signature.len(), 4, "signature is 4 characters");
    let mut s = Vec::with_capacity(84);
    for _ in 0..52 {
        s.push(rng.pick(BASE62));
    }
    s.extend_from_slice(b"JQQJ99");
    s.push(b"ABC"[(rng.next_u64() % 3) as usize]);
    s.push(rng.pick(b"ABCDEFGHIJKL"));
    for _ in 0..12 {
        s.push(rng.pick(BASE62));
    }
    s.extend_from_slice(b"AAAS");
    s.extend_from_slice(signature.as_bytes());
    let sum = checksum::cask_checksum(&s).expect("80 base64 characters");
    s.extend_from_slice(&sum[..4]);
    String::from_utf8(s).expect("ASCII")
}

/// The same token with one character changed so that its checksum fails, shape kept.
pub fn broken(token: &str) -> String {
    let mut b = token.as_bytes().to_vec();
    let i = if b.len() == 52 { 20 } else { 10 };
    b[i] = match b[i] {
        b'a' => b'b',
        b'A' => b'B',
        b'2' => b'3',
        _ if b.len() == 52 => b'a',
        _ => b'A',
    };
    String::from_utf8(b).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_validate_and_broken_ones_do_not() {
        let mut rng = FakeRng::new(7);
        for _ in 0..200 {
            for kind in [LegacyKind::UserPat, LegacyKind::ApplicationSecret] {
                let t = legacy_pat(&mut rng, kind);
                assert_eq!(checksum::legacy_pat_kind(t.as_bytes()), Some(kind));
                assert_eq!(checksum::legacy_pat_kind(broken(&t).as_bytes()), None);
            }
            let k = identifiable_key(&mut rng, "AZDO");
            assert!(checksum::cask_key_valid(k.as_bytes()), "{k}");
            assert!(!checksum::cask_key_valid(broken(&k).as_bytes()));
        }
    }
}
