//! Fuzz every decoder: `decode` with each `Decoder` variant, UTF-16 detection and
//! transcoding in both byte orders. Decoded text is printable and, for identity decoders,
//! byte-for-byte the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::detect::decode::{Utf16, decode, detect_utf16, utf16_to_utf8};
use patrol::rules::Decoder;

fuzz_target!(|data: &[u8]| {
    for d in [
        Decoder::Base64Credentials,
        Decoder::Base64,
        Decoder::UrlUserinfo,
        Decoder::Plain,
    ] {
        if let Some(out) = decode(d, data) {
            if out.identity {
                assert_eq!(
                    out.text.as_bytes(),
                    data,
                    "identity decode changed the text"
                );
            }
            if d == Decoder::Base64Credentials {
                assert!(out.text.contains(':'), "credentials without a colon");
                let _ = out.verdict();
            }
        }
    }
    let _ = detect_utf16(data);
    for order in [Utf16::Le, Utf16::Be] {
        let s = utf16_to_utf8(data, order);
        // Each 2-byte unit yields at most one char of at most 3 bytes (pairs: 4 bytes per 4).
        assert!(s.len() <= data.len() / 2 * 3, "transcoded text too long");
    }
});
