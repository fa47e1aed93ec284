//! `POST /connect/token` with arbitrary bodies and client authentication; `$PENDING` and `$APPROVED`
//! in a body stand for real `auth_req_id`s, so polling, redemption and refresh are reachable.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    ciba_idp_fuzz::HARNESS.check("/connect/token", input);
});
