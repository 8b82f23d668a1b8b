//! Fake-token generator for tests, fixtures and users checking their pipeline
//! (`patrol fake-token`). Tokens have genuine checksums but random payloads from a seeded
//! generator, so they authorise nothing; "broken" variants fail the checksum on purpose.

use crate::detect::checksum::{self, ChecksumEncoding, LegacyKind};

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

/// The shape of an identifiable key beyond its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyShape {
    /// 88 characters (checksum text of 6 characters and `==`) instead of 84.
    pub long: bool,
    pub encoding: ChecksumEncoding,
    /// The character after `JQQJ9`: `9` for a key, `D` derived, `H` hashed data.
    pub kind: u8,
}

impl Default for KeyShape {
    fn default() -> Self {
        KeyShape {
            long: false,
            encoding: ChecksumEncoding::Base62,
            kind: b'9',
        }
    }
}

/// An identifiable key of any shape, laid out as Microsoft's generator lays it out. A base64
/// checksum that would hold `+` or `/` (which the key format excludes) is drawn again.
pub fn identifiable_key_shaped(rng: &mut FakeRng, signature: &str, shape: KeyShape) -> String {
    loop {
        let mut s = identifiable_key(rng, signature).into_bytes();
        s[57] = shape.kind;
        s.truncate(80);
        let sum = checksum::cask_checksum_bytes(&s).expect("80 base64 characters");
        let text = match shape.encoding {
            ChecksumEncoding::Base62 => checksum::cask_base62_text(sum),
            ChecksumEncoding::Base64 => checksum::cask_base64_text(sum),
        };
        s.extend_from_slice(&text[..if shape.long { 8 } else { 4 }]);
        if s[80..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'=')
        {
            return String::from_utf8(s).expect("ASCII");
        }
    }
}

/// An older identifiable key: `len` random bytes, with `signature` written so that it shows at
/// its fixed place in the base64 text (just before the 6 characters the checksum occupies), the
/// bits between it and the checksum cleared, and the last 4 bytes the Marvin32 checksum of the
/// rest under `seed`. `url_safe` writes `-` and `_` for `+` and `/`.
pub fn base64_key(
    rng: &mut FakeRng,
    len: usize,
    signature: &str,
    seed: u64,
    url_safe: bool,
) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    assert_eq!(signature.len(), 4, "signature is 4 characters");
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut text = engine.encode(&bytes).into_bytes();
    let padding = text.iter().rev().take_while(|&&c| c == b'=').count();
    let at = text.len() - padding - 10;
    text[at..at + 4].copy_from_slice(signature.as_bytes());
    bytes = engine.decode(&text).expect("still base64");
    for bit in (at + 4) * 6..(len - 4) * 8 {
        bytes[bit / 8] &= !(0x80 >> (bit % 8));
    }
    let sum = checksum::marvin32(&bytes[..len - 4], seed).to_le_bytes();
    bytes[len - 4..].copy_from_slice(&sum);
    engine.encode(&bytes)
}

/// A GitHub or npm token: `prefix` (4 characters, e.g. `ghp_`, `npm_`), 30 random base62
/// characters and their base62 CRC-32.
pub fn crc32_token(rng: &mut FakeRng, prefix: &str) -> String {
    let random: Vec<u8> = (0..30).map(|_| rng.pick(BASE62)).collect();
    let sum = checksum::crc32_base62(&random);
    let mut s = prefix.as_bytes().to_vec();
    s.extend_from_slice(&random);
    s.extend_from_slice(&sum);
    String::from_utf8(s).expect("ASCII")
}

/// How one kind of token is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    Legacy(LegacyKind),
    /// An 84/88-character identifiable key with this provider signature.
    Identifiable(&'static str),
    /// An older identifiable key: byte length, signature, seed name, URL-safe alphabet.
    Base64Key(usize, &'static str, &'static str, bool),
    /// A GitHub or npm token with this prefix.
    Crc32(&'static str),
}

/// Every kind `patrol fake-token --kind` makes: name, recipe, and the built-in rule that
/// reports it.
pub const KINDS: &[(&str, Recipe, &str)] = &[
    (
        "legacy",
        Recipe::Legacy(LegacyKind::UserPat),
        "azure-devops-pat",
    ),
    (
        "legacy-app",
        Recipe::Legacy(LegacyKind::ApplicationSecret),
        "azure-devops-pat",
    ),
    (
        "identifiable",
        Recipe::Identifiable("AZDO"),
        "azure-devops-pat-identifiable",
    ),
    (
        "azure-app-configuration",
        Recipe::Identifiable("AZAC"),
        "azure-app-configuration-key",
    ),
    (
        "azure-fluid-relay",
        Recipe::Identifiable("AZFR"),
        "azure-fluid-relay-key",
    ),
    (
        "azure-event-grid",
        Recipe::Identifiable("AZEG"),
        "azure-event-grid-key",
    ),
    (
        "azure-mixed-reality",
        Recipe::Identifiable("AZMR"),
        "azure-mixed-reality-key",
    ),
    ("azure-maps", Recipe::Identifiable("AZMP"), "azure-maps-key"),
    (
        "azure-communication-services",
        Recipe::Identifiable("AZCS"),
        "azure-communication-services-key",
    ),
    (
        "azure-cognitive-services",
        Recipe::Identifiable("ACOG"),
        "azure-cognitive-services-key",
    ),
    ("azure-sql", Recipe::Identifiable("msql"), "azure-sql-key"),
    (
        "azure-storage",
        Recipe::Base64Key(64, "+ASt", "Default0", false),
        "azure-storage-account-key",
    ),
    (
        "azure-cosmos-db",
        Recipe::Base64Key(64, "ACDb", "MastRW00", false),
        "azure-cosmos-db-key",
    ),
    (
        "azure-batch",
        Recipe::Base64Key(64, "+ABa", "AbAcct00", false),
        "azure-batch-key",
    ),
    (
        "azure-ml-classic",
        Recipe::Base64Key(64, "+AMC", "Classic0", false),
        "azure-ml-classic-key",
    ),
    (
        "azure-apim-direct-management",
        Recipe::Base64Key(64, "APIM", "Tenant00", false),
        "azure-apim-direct-management-key",
    ),
    (
        "azure-apim-subscription",
        Recipe::Base64Key(64, "APIM", "IoTHub00", false),
        "azure-apim-subscription-key",
    ),
    (
        "azure-apim-gateway",
        Recipe::Base64Key(64, "APIM", "Gatewy00", false),
        "azure-apim-gateway-key",
    ),
    (
        "azure-apim-repository",
        Recipe::Base64Key(64, "APIM", "GitKey00", false),
        "azure-apim-repository-key",
    ),
    (
        "azure-service-bus",
        Recipe::Base64Key(32, "+ASb", "Send0000", false),
        "azure-service-bus-key",
    ),
    (
        "azure-event-hubs",
        Recipe::Base64Key(32, "+AEh", "Listen00", false),
        "azure-event-hubs-key",
    ),
    (
        "azure-relay",
        Recipe::Base64Key(32, "+ARm", "Manage00", false),
        "azure-relay-key",
    ),
    (
        "azure-iot-hub",
        Recipe::Base64Key(32, "AIoT", "IoTHub00", false),
        "azure-iot-hub-key",
    ),
    (
        "azure-iot-dps",
        Recipe::Base64Key(32, "AIoT", "DpsKey00", false),
        "azure-iot-dps-key",
    ),
    (
        "azure-iot-device",
        Recipe::Base64Key(32, "AIoT", "Device00", false),
        "azure-iot-device-key",
    ),
    (
        "azure-event-grid-legacy",
        Recipe::Base64Key(32, "AZEG", "SendRecv", false),
        "azure-event-grid-legacy-key",
    ),
    (
        "azure-cache-redis",
        Recipe::Base64Key(32, "AzCa", "Access00", false),
        "azure-cache-redis-key",
    ),
    (
        "azure-functions",
        Recipe::Base64Key(40, "AzFu", "Functi00", true),
        "azure-functions-key",
    ),
    (
        "azure-search-query",
        Recipe::Base64Key(39, "AzSe", "Query000", true),
        "azure-search-query-key",
    ),
    (
        "azure-search-admin",
        Recipe::Base64Key(39, "AzSe", "PAdmin00", true),
        "azure-search-admin-key",
    ),
    (
        "azure-container-registry",
        Recipe::Base64Key(39, "+ACR", "ACRDflt0", false),
        "azure-container-registry-key",
    ),
    ("github-pat", Recipe::Crc32("ghp_"), "github-token"),
    ("github-oauth", Recipe::Crc32("gho_"), "github-token"),
    (
        "github-user-to-server",
        Recipe::Crc32("ghu_"),
        "github-token",
    ),
    (
        "github-server-to-server",
        Recipe::Crc32("ghs_"),
        "github-token",
    ),
    ("github-refresh", Recipe::Crc32("ghr_"), "github-token"),
    ("npm", Recipe::Crc32("npm_"), "npm-access-token"),
];

/// A kind of token by its name in [`KINDS`] (`patrol fake-token --kind NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(&'static (&'static str, Recipe, &'static str));

impl Kind {
    /// The kind `name` names, if it is one of [`KINDS`].
    pub fn named(name: &str) -> Option<Kind> {
        KINDS.iter().find(|k| k.0 == name).map(Kind)
    }

    pub fn name(self) -> &'static str {
        self.0.0
    }

    pub fn recipe(self) -> Recipe {
        self.0.1
    }

    /// `identifiable`: an identifiable key of any signature, not one key kind's.
    pub fn any_signature(self) -> bool {
        self.name() == "identifiable"
    }
}

/// An identifiable key; the default shape gives exactly what [`identifiable_key`] gives.
pub fn identifiable(rng: &mut FakeRng, signature: &str, shape: KeyShape) -> String {
    if shape == KeyShape::default() {
        identifiable_key(rng, signature)
    } else {
        identifiable_key_shaped(rng, signature, shape)
    }
}

/// Make one token by `recipe`; `shape` applies to identifiable keys only.
pub fn make(rng: &mut FakeRng, recipe: Recipe, shape: KeyShape) -> String {
    match recipe {
        Recipe::Legacy(kind) => legacy_pat(rng, kind),
        Recipe::Identifiable(sig) => identifiable(rng, sig, shape),
        Recipe::Base64Key(len, sig, seed, url) => {
            let seed = checksum::seed_from_name(seed).expect("8-character seed name");
            base64_key(rng, len, sig, seed, url)
        }
        Recipe::Crc32(prefix) => crc32_token(rng, prefix),
    }
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

    #[test]
    fn every_key_shape_validates_in_its_own_encoding() {
        let mut rng = FakeRng::new(11);
        for long in [false, true] {
            for encoding in [ChecksumEncoding::Base62, ChecksumEncoding::Base64] {
                for _ in 0..100 {
                    let shape = KeyShape {
                        long,
                        encoding,
                        kind: b'9',
                    };
                    let k = identifiable_key_shaped(&mut rng, "ACOG", shape);
                    assert_eq!(k.len(), if long { 88 } else { 84 });
                    assert_eq!(
                        checksum::cask_key_encoding(k.as_bytes()),
                        Some(encoding),
                        "{k}"
                    );
                    assert_eq!(checksum::cask_key_encoding(broken(&k).as_bytes()), None);
                    if long {
                        assert!(b"AQgw".contains(&k.as_bytes()[85]), "{k}");
                    }
                }
            }
        }
    }

    #[test]
    fn base64_keys_carry_signature_and_checksum() {
        let mut rng = FakeRng::new(5);
        let seed = checksum::seed_from_name("Send0000").unwrap();
        for (len, sig, url, at, chars) in [
            (32, "+ASb", false, 33, 44),
            (64, "+ASt", false, 76, 88),
            (40, "AzFu", true, 44, 56),
            (39, "AzSe", true, 42, 52),
        ] {
            for _ in 0..50 {
                let k = base64_key(&mut rng, len, sig, seed, url);
                assert_eq!(k.len(), chars, "{k}");
                assert_eq!(&k[at..at + 4], sig, "{k}");
                assert_eq!(checksum::base64_key_seed(k.as_bytes(), &[1, seed]), Some(1));
                assert_eq!(
                    checksum::base64_key_seed(broken(&k).as_bytes(), &[seed]),
                    None
                );
            }
        }
    }

    #[test]
    fn crc32_tokens_validate() {
        let mut rng = FakeRng::new(3);
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"] {
            for _ in 0..50 {
                let t = crc32_token(&mut rng, prefix);
                assert_eq!(t.len(), 40);
                assert!(checksum::crc32_base62_token_valid(t.as_bytes()), "{t}");
                assert!(!checksum::crc32_base62_token_valid(broken(&t).as_bytes()));
            }
        }
    }
}
