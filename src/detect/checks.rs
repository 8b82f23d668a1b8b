//! Checks a candidate goes through after its pattern matched: checksums and test-vector
//! payloads, glued flags, decoding a wrapped base64 block, and dropping overlapping matches.

use super::*;

impl Matcher {
    /// Tokens in a block of base64 lines whose first line is `s..e` (rule `ri`, decoder
    /// `base64-wrapped`), each reported at the line where its encoding starts. The block is
    /// decoded in bounded windows.
    pub(super) fn wrapped_base64(
        &self,
        ri: usize,
        hay: &[u8],
        s: usize,
        e: usize,
        out: &mut Vec<Match>,
    ) {
        /// base64 characters decoded at a time, and how much windows overlap: more than the
        /// encoding of the longest token with a user name before it.
        const WINDOW: usize = 64 * 1024;
        const OVERLAP: usize = 1024;
        let Some(block) = decode::unwrap_base64(hay, s, e) else {
            return;
        };
        let mut inner = Vec::new();
        block.decode_windows(WINDOW, OVERLAP, |at, bytes| {
            inner.clear();
            self.scan_into(bytes, false, &mut inner);
            for m in inner.drain(..) {
                if self.rules[m.rule].rule.validator.is_none() {
                    continue;
                }
                // Three bytes are four base64 characters.
                let (start, end) = block.line_of(at + m.start / 3 * 4);
                out.push(Match {
                    rule: m.rule,
                    origin: ri,
                    start,
                    end,
                    secret: m.secret,
                    encoding: Some(Encoding::Base64),
                    organization: None,
                    weak: m.weak,
                });
            }
        });
    }
}

/// Whether a checksum-valid token's leading characters (its random part in every format
/// patrol validates) use at most two distinct characters, as in `aaaa…+ASt…` or `xxxx…JQQJ99…`.
/// Real keys come from a cryptographic generator and never look like that; test vectors built
/// by Microsoft's and patrol's own generators from one repeated character do.
pub(super) fn constant_payload(token: &[u8]) -> bool {
    let head = &token[..token.len().min(32)];
    let mut seen: Vec<u8> = Vec::with_capacity(3);
    for &c in head {
        if !seen.contains(&c) {
            seen.push(c);
            if seen.len() > 2 {
                return false;
            }
        }
    }
    true
}

/// How many bytes of `raw` form a genuine token, if any.
pub(super) fn validate(v: Validator, raw: &[u8], seeds: &[u64]) -> Option<usize> {
    match v {
        Validator::Crc32AdoLegacy => checksum::legacy_pat_kind(raw).map(|_| raw.len()),
        // The long form first: a valid 88-character key is reported whole, never as the
        // 84-character key its first characters also make.
        Validator::Marvin32Cask => [88, 84]
            .into_iter()
            .find(|&n| raw.len() >= n && checksum::cask_key_valid(&raw[..n])),
        Validator::Marvin32Base64 => checksum::base64_key_seed(raw, seeds).map(|_| raw.len()),
        Validator::Crc32Base62 => checksum::crc32_base62_token_valid(raw).then_some(raw.len()),
    }
}

/// Where a token of `len` characters starts in the run `s..e` when the run is the token with up
/// to `glue` letters of a command-line flag glued before it (`-p<token>`): the run must follow a
/// `-` and be at most `glue` letters longer. Whether it is a token is the validator's call.
pub(super) fn after_glued_flag(
    hay: &[u8],
    s: usize,
    e: usize,
    len: usize,
    glue: usize,
) -> Option<usize> {
    let extra = (e - s).checked_sub(len)?;
    let flag = (1..=glue).contains(&extra)
        && s > 0
        && hay[s - 1] == b'-'
        && hay[s..s + extra].iter().all(u8::is_ascii_alphabetic);
    flag.then_some(s + extra)
}

/// Keep one match per (position, secret): the most confident rule's.
pub(super) fn dedupe(out: &mut Vec<Match>, confidence: impl Fn(usize) -> Confidence) {
    out.sort_by(|a, b| {
        (
            a.start,
            &a.secret,
            std::cmp::Reverse(confidence(a.rule)),
            a.rule,
        )
            .cmp(&(
                b.start,
                &b.secret,
                std::cmp::Reverse(confidence(b.rule)),
                b.rule,
            ))
    });
    out.dedup_by(|later, kept| later.start == kept.start && later.secret == kept.secret);
}
