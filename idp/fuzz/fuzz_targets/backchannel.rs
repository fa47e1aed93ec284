//! `POST /connect/ciba` with arbitrary bodies and client authentication.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    ciba_idp_fuzz::HARNESS.check("/connect/ciba", input);
});
