//! Any bytes as a `.npy` input of `mote run`. See `mote_fuzz::npy`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mote_fuzz::npy(data);
});
