//! Any bytes as an image for `mote run --image`. See `mote_fuzz::image`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mote_fuzz::image(data);
});
