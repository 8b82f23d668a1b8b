//! Fuzz the checksum validators: `decode_legacy`, `legacy_pat_kind`, `cask_key_valid`.
//! They never panic, accept only the documented lengths, and legacy decoding round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::detect::checksum::{cask_key_valid, decode_legacy, encode_legacy, legacy_pat_kind};

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = decode_legacy(data) {
        assert_eq!(data.len(), 52);
        assert_eq!(encode_legacy(&bytes).as_bytes(), data, "base32 round trip");
    }
    if legacy_pat_kind(data).is_some() {
        assert!(decode_legacy(data).is_some());
    }
    if cask_key_valid(data) {
        assert!(data.len() == 84 || data.len() == 88);
    }
    // Also at the lengths the matcher feeds them, cut out of arbitrary input.
    if data.len() >= 88 {
        let _ = cask_key_valid(&data[..88]);
        let _ = cask_key_valid(&data[..84]);
        let _ = legacy_pat_kind(&data[..52]);
    }
});
