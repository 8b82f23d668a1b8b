//! Checksum validators for the token formats patrol knows (docs/formats.md describes each).
//!
//! These are pure functions over the candidate text: they decide whether a string that *looks*
//! like a token carries the checksum a genuine token carries. They know nothing of rules,
//! files or output.

/// CRC-32 seeds that Azure DevOps XORs into the embedded checksum of a legacy 52-character PAT.
pub const LEGACY_SEEDS: [u32; 2] = [0xE0B9_692D, 0x1019_F92E];

/// Byte indices (in the 32 decoded bytes) that hold the checksum, least significant first.
const LEGACY_CHECKSUM_AT: [usize; 4] = [22, 8, 7, 2];

/// Value of one lowercase RFC 4648 base32 character, or `None`.
#[inline]
pub fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

/// Decode 52 lowercase base32 characters into 32 bytes (MSB first). The 4 padding bits of the
/// last character must be zero, as they are in every encoder's output.
pub fn decode_legacy(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 52 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    let mut n = 0;
    for &c in text {
        acc = (acc << 5) | u64::from(base32_value(c)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            if n < 32 {
                out[n] = (acc >> bits) as u8;
                n += 1;
            }
            acc &= (1u64 << bits) - 1;
        }
    }
    // 52 * 5 = 260 bits: 256 data bits and 4 padding bits left in `acc`.
    if bits != 4 || acc != 0 {
        return None;
    }
    Some(out)
}

/// Encode 32 bytes as 52 lowercase base32 characters (the inverse of [`decode_legacy`]).
pub fn encode_legacy(bytes: &[u8; 32]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(52);
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1u64 << bits) - 1;
    }
    out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    out
}

/// The 28 payload bytes and the embedded checksum of a decoded legacy PAT.
fn legacy_parts(b: &[u8; 32]) -> ([u8; 28], u32) {
    let mut payload = [0u8; 28];
    payload[0..2].copy_from_slice(&b[0..2]);
    payload[2..6].copy_from_slice(&b[3..7]);
    payload[6..19].copy_from_slice(&b[9..22]);
    payload[19..28].copy_from_slice(&b[23..32]);
    let embedded = LEGACY_CHECKSUM_AT
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, &at)| acc | (u32::from(b[at]) << (8 * i)));
    (payload, embedded)
}

/// Which seed a legacy PAT's checksum was made with, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKind {
    UserPat,
    ApplicationSecret,
}

/// Check a 52-character legacy PAT: decodes and verifies its embedded CRC-32.
pub fn legacy_pat_kind(text: &[u8]) -> Option<LegacyKind> {
    let bytes = decode_legacy(text)?;
    let (payload, embedded) = legacy_parts(&bytes);
    let crc = crc32fast::hash(&payload);
    if crc ^ LEGACY_SEEDS[0] == embedded {
        Some(LegacyKind::UserPat)
    } else if crc ^ LEGACY_SEEDS[1] == embedded {
        Some(LegacyKind::ApplicationSecret)
    } else {
        None
    }
}

/// Build a valid legacy PAT from 28 payload bytes (used by the fake-token generator).
pub fn make_legacy(payload: &[u8; 28], kind: LegacyKind) -> String {
    let seed = match kind {
        LegacyKind::UserPat => LEGACY_SEEDS[0],
        LegacyKind::ApplicationSecret => LEGACY_SEEDS[1],
    };
    let sum = crc32fast::hash(payload) ^ seed;
    let mut b = [0u8; 32];
    b[0..2].copy_from_slice(&payload[0..2]);
    b[3..7].copy_from_slice(&payload[2..6]);
    b[9..22].copy_from_slice(&payload[6..19]);
    b[23..32].copy_from_slice(&payload[19..28]);
    for (i, &at) in LEGACY_CHECKSUM_AT.iter().enumerate() {
        b[at] = (sum >> (8 * i)) as u8;
    }
    encode_legacy(&b)
}

/// Marvin32 with a 64-bit seed, as Microsoft's common annotated security keys use it.
pub fn marvin32(data: &[u8], seed: u64) -> u32 {
    let mut p0 = seed as u32;
    let mut p1 = (seed >> 32) as u32;
    let block = |p0: &mut u32, p1: &mut u32| {
        *p1 ^= *p0;
        *p0 = p0.rotate_left(20);
        *p0 = p0.wrapping_add(*p1);
        *p1 = p1.rotate_left(9);
        *p1 ^= *p0;
        *p0 = p0.rotate_left(27);
        *p0 = p0.wrapping_add(*p1);
        *p1 = p1.rotate_left(19);
    };
    let mut chunks = data.chunks_exact(4);
    for w in &mut chunks {
        p0 = p0.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        block(&mut p0, &mut p1);
    }
    let t = chunks.remainder();
    let fin = match t.len() {
        0 => 0x80,
        1 => 0x8000 | u32::from(t[0]),
        2 => 0x80_0000 | u32::from(t[1]) << 8 | u32::from(t[0]),
        _ => 0x8000_0000 | u32::from(t[2]) << 16 | u32::from(t[1]) << 8 | u32::from(t[0]),
    };
    p0 = p0.wrapping_add(fin);
    block(&mut p0, &mut p1);
    block(&mut p0, &mut p1);
    p1 ^ p0
}

/// Seed of the identifiable-key checksum: ASCII "Default0".
pub const CASK_SEED: u64 = 0x4465_6661_756C_7430;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// The Marvin32 checksum of the first 80 characters of an identifiable key (the 60 bytes they
/// decode to), as the 4 bytes a little-endian machine stores it in.
pub fn cask_checksum_bytes(first80: &[u8]) -> Option<[u8; 4]> {
    if first80.len() != 80 {
        return None;
    }
    let mut bytes = [0u8; 60];
    for (i, quad) in first80.chunks_exact(4).enumerate() {
        let mut v: u32 = 0;
        for &c in quad {
            v = (v << 6) | u32::from(base64_value(c)?);
        }
        bytes[i * 3] = (v >> 16) as u8;
        bytes[i * 3 + 1] = (v >> 8) as u8;
        bytes[i * 3 + 2] = v as u8;
    }
    Some(marvin32(&bytes, CASK_SEED).to_le_bytes())
}

/// The checksum bytes written in base62: read as one big-endian number, one `0` per leading
/// zero byte, then the digits, right-padded with `0` to 6 characters.
pub fn base62_digits(sum: [u8; 4]) -> [u8; 6] {
    let mut n = u32::from_be_bytes(sum);
    let mut digits = Vec::with_capacity(6);
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    let mut out = Vec::with_capacity(8);
    out.extend(sum.iter().take_while(|&&b| b == 0).map(|_| b'0'));
    out.extend(digits.iter().rev());
    out.resize(6, b'0');
    let mut fixed = [0u8; 6];
    fixed.copy_from_slice(&out[..6]);
    fixed
}

/// The 8-character checksum text of a long-form (88-character) key in its base62 encoding.
///
/// The six base62 digits are read as base64 (`dddddd==`, 4 bytes) and written back: the first
/// five characters survive, the sixth keeps only its top two bits (so it is `A`, `Q`, `g` or
/// `w`), and `==` follows. An 84-character key carries the first 4 characters of this text.
pub fn cask_base62_text(sum: [u8; 4]) -> [u8; 8] {
    let d = base62_digits(sum);
    let mut out = [0u8; 8];
    out[..5].copy_from_slice(&d[..5]);
    let v = base64_value(d[5]).expect("base62 digits are base64 characters");
    out[5] = BASE64[usize::from(v & 0b11_0000)];
    out[6] = b'=';
    out[7] = b'=';
    out
}

/// The checksum text in the other encoding the reference accepts: plain base64 of the first 3
/// checksum bytes (`cccc`, 84-character keys) or of all 4 (`cccccc==`, 88-character keys).
pub fn cask_base64_text(sum: [u8; 4]) -> [u8; 8] {
    let mut out = [0u8; 8];
    let v = u32::from(sum[0]) << 16 | u32::from(sum[1]) << 8 | u32::from(sum[2]);
    for i in 0..4 {
        out[i] = BASE64[((v >> (18 - 6 * i)) & 63) as usize];
    }
    out[4] = BASE64[usize::from(sum[3] >> 2)];
    out[5] = BASE64[usize::from((sum[3] & 3) << 4)];
    out[6] = b'=';
    out[7] = b'=';
    out
}

/// Six base62 checksum characters for the first 80 characters of an identifiable key.
pub fn cask_checksum(first80: &[u8]) -> Option<[u8; 6]> {
    cask_checksum_bytes(first80).map(base62_digits)
}

/// Which of its two encodings an identifiable key's checksum is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumEncoding {
    /// Base62 digits (what Microsoft's generator writes today).
    Base62,
    /// Plain base64 of the checksum bytes (older keys, e.g. Azure AI services).
    Base64,
}

/// Check an 84- or 88-character identifiable key (any provider signature): the checksum in
/// characters 80.. must be the base62 text or, failing that, the base64 text of the Marvin32
/// checksum of characters 0..80. Which encoding held, or `None`.
pub fn cask_key_encoding(text: &[u8]) -> Option<ChecksumEncoding> {
    let n = match text.len() {
        84 => 4,
        88 => 8,
        _ => return None,
    };
    let sum = cask_checksum_bytes(&text[..80])?;
    if text[80..] == cask_base62_text(sum)[..n] {
        Some(ChecksumEncoding::Base62)
    } else if text[80..] == cask_base64_text(sum)[..n] {
        Some(ChecksumEncoding::Base64)
    } else {
        None
    }
}

/// Check an 84- or 88-character identifiable key (any provider signature).
pub fn cask_key_valid(text: &[u8]) -> bool {
    cask_key_encoding(text).is_some()
}

pub use crate::rules::seed_from_name;

/// Decode standard or URL-safe base64 (one alphabet per key, padding optional).
fn decode_key_base64(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    let url = text.iter().any(|&c| c == b'-' || c == b'_');
    let engine = if url { &URL_SAFE } else { &STANDARD };
    engine.decode(text).ok()
}

/// Check an older identifiable key (Azure Storage, Service Bus, Cosmos DB, …): the base64 text
/// decodes to bytes whose last 4 are the Marvin32 checksum (little-endian) of the rest under one
/// of `seeds`. Returns the index of the seed that holds.
///
/// An 88-character key may instead carry the checksum as base62 text in characters 80..86, the
/// way identifiable keys of the newer layout do; the reference accepts that too.
pub fn base64_key_seed(text: &[u8], seeds: &[u64]) -> Option<usize> {
    let bytes = decode_key_base64(text)?;
    if bytes.len() < 8 {
        return None;
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    seeds.iter().position(|&seed| {
        let computed = marvin32(body, seed).to_le_bytes();
        computed == sum || (text.len() == 88 && text[80..88] == cask_base62_text(computed)[..])
    })
}

/// Six base62 characters (`0-9A-Za-z`) of a CRC-32, most significant first, left-padded with
/// `0`: the checksum GitHub and npm tokens end with.
pub fn crc32_base62(data: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(data);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Check a GitHub (`ghp_` …) or npm (`npm_`) token: 4 characters of prefix, a random part, and
/// 6 characters holding the base62 CRC-32 of the random part.
pub fn crc32_base62_token_valid(text: &[u8]) -> bool {
    text.len() > 10 && text[text.len() - 6..] == crc32_base62(&text[4..text.len() - 6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_design_vectors() {
        assert_eq!(
            legacy_pat_kind(b"aaatwayeaudnhgajbifqydiob4ibceqtcqkucfyydenbwha5dypq"),
            Some(LegacyKind::UserPat)
        );
        assert_eq!(
            legacy_pat_kind(b"mrszuz3infvi6v3nnzxxa4lson2hk5txpb4tg634pv7h7aebqkbq"),
            Some(LegacyKind::ApplicationSecret)
        );
        assert_eq!(
            legacy_pat_kind(b"aaatwayeaudnhgajbifqydiob4ibceqtcqkucfyydenbwha5dybq"),
            None
        );
        assert_eq!(legacy_pat_kind(&[b'a'; 52]), None);
    }

    #[test]
    fn legacy_round_trip() {
        let payload: [u8; 28] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        for kind in [LegacyKind::UserPat, LegacyKind::ApplicationSecret] {
            let t = make_legacy(&payload, kind);
            assert_eq!(t.len(), 52);
            assert_eq!(legacy_pat_kind(t.as_bytes()), Some(kind));
        }
    }

    #[test]
    fn cask_design_vectors() {
        for (body, tail) in [
            ("A", "JQQJ99BAAAAAAAAAAAAAAAAAAZDO4IOp"),
            ("x", "JQQJ99BFAAAAAAAAAAAAAAAAAZDO39ny"),
            ("7", "JQQJ99AKAAAAAAAAAAAAAAAAAZDO3xBq"),
        ] {
            let key = format!("{}{}", body.repeat(52), tail);
            assert!(cask_key_valid(key.as_bytes()), "{key}");
        }
        let bad_last = format!("{}JQQJ99BFAAAAAAAAAAAAAAAAAZDO39nz", "x".repeat(52));
        assert!(!cask_key_valid(bad_last.as_bytes()));
        let bad_sig = format!("{}JQQJ99BFAAAAAAAAAAAAAAAAAZDP39ny", "x".repeat(52));
        assert!(!cask_key_valid(bad_sig.as_bytes()));
    }
}
