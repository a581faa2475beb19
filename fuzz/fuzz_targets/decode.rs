#![no_main]
//! Any bytes decode to some text and a named encoding, without panicking.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = duban_extract::decode(data);
    assert!(!decoded.encoding.is_empty());
});
