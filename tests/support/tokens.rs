//! Fake tokens, all from the project's generator (src/fake.rs): they pass the detectors'
//! checks and authorise nothing. The same seed gives the same token on every run.

use base64::Engine;
use patrol::detect::checksum::LegacyKind;
use patrol::fake::{self, FakeRng};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Standard base64 of `s`.
pub fn b64(s: &str) -> String {
    B64.encode(s)
}

/// A legacy user PAT, one per seed.
pub fn pat(seed: u64) -> String {
    fake::legacy_pat(&mut FakeRng::new(seed), LegacyKind::UserPat)
}

/// `n` distinct legacy user PATs from one seed (the first is [`pat`]`(seed)`).
pub fn pats(seed: u64, n: usize) -> Vec<String> {
    let mut rng = FakeRng::new(seed);
    (0..n)
        .map(|_| fake::legacy_pat(&mut rng, LegacyKind::UserPat))
        .collect()
}

/// A legacy application secret, one per seed.
pub fn app_pat(seed: u64) -> String {
    fake::legacy_pat(&mut FakeRng::new(seed), LegacyKind::ApplicationSecret)
}

/// An identifiable key with the 4-character `signature`, one per seed.
pub fn id_key(seed: u64, signature: &str) -> String {
    fake::identifiable_key(&mut FakeRng::new(seed), signature)
}
