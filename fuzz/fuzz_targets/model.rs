//! Any bytes as a `.mote` file: load, set up, run once. See `mote_fuzz::model`.
#![no_main]
use libfuzzer_sys::{fuzz_mutator, fuzz_target};

fuzz_target!(|data: &[u8]| {
    mote_fuzz::model(data);
});

// libFuzzer's own mutations, then the checksum rewritten in 7 of 8 cases (see `mote_fuzz::reseal`).
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let size = libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    if seed % 8 != 0 {
        if let Some(file) = data.get_mut(..size) {
            mote_fuzz::reseal(file);
        }
    }
    size
});
