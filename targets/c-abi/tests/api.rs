//! The C API called from Rust as C would call it: results equal the Rust runtime's, and every
//! misuse the API can detect (NULL, misalignment, bad index, wrong size, small arena, reading
//! before running, a damaged model) is a status code with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use core::ffi::{c_char, c_void, CStr};
use mote_c::*;
use mote_format::AlignedBytes;
use mote_status::*;
use std::ptr;

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn load(bytes: &AlignedBytes) -> *mut mote_model {
    let mut m = ptr::null_mut();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let st = unsafe { mote_model_load(bytes.as_bytes().as_ptr(), bytes.as_bytes().len(), &mut m) };
    assert_eq!(st, MOTE_OK);
    assert!(!m.is_null());
    m
}

fn last_error(s: *const mote_session) -> String {
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let n = unsafe { mote_session_last_error(s, ptr::null_mut(), 0) };
    let mut buf = vec![0 as c_char; n + 1];
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let m = unsafe { mote_session_last_error(s, buf.as_mut_ptr(), buf.len()) };
    assert_eq!(m, n);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string()
}

fn output(s: *mut mote_session, index: usize) -> Result<Vec<u8>, mote_status> {
    let mut data: *const c_void = ptr::null();
    let mut len = 0usize;
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let st = unsafe { mote_session_output(s, index, &mut data, &mut len) };
    if st != MOTE_OK {
        return Err(st);
    }
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec())
}

/// A placeholder the API overwrites.
fn blank_info() -> mote_tensor_info {
    mote_tensor_info {
        name: ptr::null(),
        name_len: 0,
        dtype: mote_dtype::MOTE_DTYPE_U8,
        rank: 0,
        dims: [0; MOTE_MAX_RANK],
        elements: 0,
        byte_len: 0,
        quantized: false,
        scale: 0.0,
        zero_point: 0,
    }
}

#[test]
fn version_and_messages_are_static_strings() {
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let v = unsafe { CStr::from_ptr(mote_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    for code in 0..=14 {
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        let m = unsafe { CStr::from_ptr(mote_error_message(code)) }
            .to_str()
            .unwrap();
        assert!(!m.is_empty() && m != "unknown status code", "{code}");
    }
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let m = unsafe { CStr::from_ptr(mote_error_message(99)) }
        .to_str()
        .unwrap();
    assert_eq!(m, "unknown status code");
    assert_eq!(MOTE_ERR_INTERNAL as i32, 13);
    assert_eq!(MOTE_ERR_BAD_ARGUMENT as i32, 14);
}

/// Threads: ResNet-8 float, whose 3×3 layers (2.4 M MACs) are cut into bands at the default
/// thresholds, gives one thread's outputs on 2 and 3 (within f32 rounding: a band may run
/// another kernel than its whole layer); a count outside 1..=16 is refused and keeps the
/// session's threads.
#[test]
fn threads_give_the_outputs_of_one_thread() {
    let model = common::compile_mlperf_tiny("pretrainedResnet", &[1, 32, 32, 3]);
    let bytes = AlignedBytes::from_slice(&model);
    let m = load(&bytes);
    let input = f32_bytes(&common::input_f32(32 * 32 * 3));
    let expected: Vec<f32> = common::run_rust(&model, &input)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut s = ptr::null_mut();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_create_alloc(m, &mut s) }, MOTE_OK);
    // SAFETY: as above.
    assert_eq!(unsafe { mote_session_threads(s) }, 1);
    for threads in [2, 3, 1, 3] {
        // SAFETY: as above.
        assert_eq!(unsafe { mote_session_set_threads(s, threads) }, MOTE_OK);
        // SAFETY: as above.
        assert_eq!(unsafe { mote_session_threads(s) }, threads);
        for _ in 0..3 {
            // SAFETY: as above.
            unsafe {
                assert_eq!(
                    mote_session_set_input(s, 0, input.as_ptr().cast(), input.len()),
                    MOTE_OK
                );
                assert_eq!(mote_session_run(s), MOTE_OK);
            }
            let got: Vec<f32> = output(s, 0)
                .unwrap()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            assert_eq!(got.len(), expected.len());
            for (x, y) in expected.iter().zip(&got) {
                assert!(
                    (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                    "{threads} threads: {got:?} vs {expected:?}"
                );
            }
        }
    }
    for bad in [0, -1, 17] {
        // SAFETY: as above.
        assert_eq!(
            unsafe { mote_session_set_threads(s, bad) },
            MOTE_ERR_BAD_ARGUMENT
        );
        assert_eq!(last_error(s), "threads must be 1 to 16");
        // SAFETY: as above.
        assert_eq!(unsafe { mote_session_threads(s) }, 3);
    }
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            mote_session_set_threads(ptr::null_mut(), 2),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(mote_session_threads(ptr::null()), 0);
        mote_session_free(s);
        mote_model_free(m);
    }
}

#[test]
fn float_model_runs_like_the_rust_runtime_in_both_arena_modes() {
    let model = common::compile_ad01("ad01_fp32");
    let input = f32_bytes(&common::input_f32(640));
    let expected = common::run_rust(&model, &input);

    let bytes = AlignedBytes::from_slice(&model);
    let m = load(&bytes);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe {
        assert_eq!(mote_model_input_count(m), 1);
        assert_eq!(mote_model_output_count(m), 1);
        let mut info: mote_tensor_info = blank_info();
        assert_eq!(mote_model_input_info(m, 0, &mut info), MOTE_OK);
        let name = std::slice::from_raw_parts(info.name.cast::<u8>(), info.name_len);
        assert_eq!(name, b"input_1");
        assert_eq!(info.dtype, mote_dtype::MOTE_DTYPE_F32);
        assert_eq!((info.rank, info.dims), (2, [1, 640, 0, 0, 0, 0]));
        assert_eq!((info.elements, info.byte_len), (640, 2560));
        assert!(!info.quantized);
        assert_eq!(mote_model_output_info(m, 0, &mut info), MOTE_OK);
        assert_eq!(info.byte_len, expected.len());
        assert_eq!(mote_model_input_info(m, 1, &mut info), MOTE_ERR_BAD_INDEX);
        assert_eq!(mote_model_output_info(m, 7, &mut info), MOTE_ERR_BAD_INDEX);
    }

    // Library-allocated arena, input copied in.
    let mut s = ptr::null_mut();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_create_alloc(m, &mut s) }, MOTE_OK);
    assert_eq!(output(s, 0), Err(MOTE_ERR_NOT_RUN));
    assert!(last_error(s).contains("mote_session_run"));
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let st = unsafe { mote_session_set_input(s, 0, input.as_ptr().cast(), input.len()) };
    assert_eq!(st, MOTE_OK);
    assert_eq!(last_error(s), "");
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
    assert_eq!(output(s, 0).unwrap(), expected);
    assert_eq!(output(s, 1), Err(MOTE_ERR_BAD_INDEX));
    // Running again on the same (rewritten) input gives the same result.
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let st = unsafe { mote_session_set_input(s, 0, input.as_ptr().cast(), input.len()) };
    assert_eq!(st, MOTE_OK);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
    assert_eq!(output(s, 0).unwrap(), expected);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe { mote_session_free(s) };

    // Caller-lent arena, input written in place.
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    let need = unsafe { mote_model_arena_size(m) };
    let mut arena = AlignedBytes::zeroed(need);
    let mut s = ptr::null_mut();
    let st =
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { mote_session_create(m, arena.as_bytes_mut().as_mut_ptr().cast(), need, &mut s) };
    assert_eq!(st, MOTE_OK);
    let mut dst: *mut c_void = ptr::null_mut();
    let mut n = 0usize;
    assert_eq!(
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { mote_session_input_ptr(s, 0, &mut dst, &mut n) },
        MOTE_OK
    );
    assert_eq!(n, input.len());
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe { ptr::copy_nonoverlapping(input.as_ptr(), dst.cast::<u8>(), n) };
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
    assert_eq!(output(s, 0).unwrap(), expected);
    // Setting an input from the session's own input memory (overlapping copy) is allowed.
    assert_eq!(
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { mote_session_input_ptr(s, 0, &mut dst, &mut n) },
        MOTE_OK
    );
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe { ptr::copy_nonoverlapping(input.as_ptr(), dst.cast::<u8>(), n) };
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_set_input(s, 0, dst, n) }, MOTE_OK);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
    assert_eq!(output(s, 0).unwrap(), expected);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe {
        mote_session_free(s);
        mote_model_free(m);
    }
}

#[test]
fn int8_model_reports_quantization_and_matches() {
    let model = common::compile_ad01("ad01_int8");
    let bytes = AlignedBytes::from_slice(&model);
    let m = load(&bytes);
    let mut info: mote_tensor_info = blank_info();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_model_input_info(m, 0, &mut info) }, MOTE_OK);
    assert_eq!(info.dtype, mote_dtype::MOTE_DTYPE_I8);
    assert!(info.quantized && info.scale > 0.0);
    let input: Vec<u8> = (0..info.byte_len).map(|i| (i * 37 % 251) as u8).collect();
    let expected = common::run_rust(&model, &input);
    let mut s = ptr::null_mut();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_create_alloc(m, &mut s) }, MOTE_OK);
    assert_eq!(
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { mote_session_set_input(s, 0, input.as_ptr().cast(), input.len()) },
        MOTE_OK
    );
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
    assert_eq!(output(s, 0).unwrap(), expected);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe {
        mote_session_free(s);
        mote_model_free(m);
    }
}

#[test]
fn misuse_is_reported_with_codes_and_messages() {
    let model = common::compile_ad01("ad01_fp32");
    let bytes = AlignedBytes::from_slice(&model);
    let b = bytes.as_bytes();
    let mut m: *mut mote_model = ptr::null_mut();
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe {
        // NULL arguments.
        assert_eq!(
            mote_model_load(ptr::null(), 0, &mut m),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(
            mote_model_load(b.as_ptr(), b.len(), ptr::null_mut()),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(mote_model_input_count(ptr::null()), 0);
        assert_eq!(mote_model_arena_size(ptr::null()), 0);
        assert_eq!(mote_session_run(ptr::null_mut()), MOTE_ERR_NULL_POINTER);
        assert_eq!(mote_session_last_error(ptr::null(), ptr::null_mut(), 0), 0);
        mote_model_free(ptr::null_mut());
        mote_session_free(ptr::null_mut());

        // Misaligned bytes: the same file one byte in.
        let mut shifted = AlignedBytes::zeroed(b.len() + 1);
        let shifted = shifted.as_bytes_mut();
        let at = 1;
        shifted[at..].copy_from_slice(b);
        let mut detail = [0 as c_char; 128];
        let st = mote_model_load_with_detail(
            shifted[at..].as_ptr(),
            b.len(),
            &mut m,
            detail.as_mut_ptr(),
            detail.len(),
        );
        assert_eq!(st, MOTE_ERR_MISALIGNED);
        assert!(m.is_null());
        let d = CStr::from_ptr(detail.as_ptr()).to_str().unwrap();
        assert!(d.contains("16-byte aligned"), "{d}");

        // A damaged file: flip a byte of the weights; the message names the checksum.
        let mut bad = b.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0x55;
        let bad = AlignedBytes::from_slice(&bad);
        let st = mote_model_load_with_detail(
            bad.as_bytes().as_ptr(),
            bad.as_bytes().len(),
            &mut m,
            detail.as_mut_ptr(),
            detail.len(),
        );
        assert_eq!(st, MOTE_ERR_INVALID_MODEL);
        assert!(m.is_null());
        let d = CStr::from_ptr(detail.as_ptr())
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(d.contains("checksum"), "{d}");
        // Truncated detail buffer: NUL-terminated, full length returned via snprintf rules.
        let mut tiny = [0x7f as c_char; 4];
        let st = mote_model_load_with_detail(
            bad.as_bytes().as_ptr(),
            bad.as_bytes().len(),
            &mut m,
            tiny.as_mut_ptr(),
            tiny.len(),
        );
        assert_eq!(st, MOTE_ERR_INVALID_MODEL);
        assert_eq!(tiny[3], 0);
        assert_eq!(CStr::from_ptr(tiny.as_ptr()).to_bytes().len(), 3);
        // Not a model at all.
        let junk = AlignedBytes::from_slice(b"hello, world, not a model");
        let st = mote_model_load(junk.as_bytes().as_ptr(), junk.as_bytes().len(), &mut m);
        assert_eq!(st, MOTE_ERR_INVALID_MODEL);

        let m = load(&bytes);
        let need = mote_model_arena_size(m);
        assert!(need > 0);
        let mut arena = AlignedBytes::zeroed(need + 16);
        let base = arena.as_bytes_mut().as_mut_ptr();
        let mut s: *mut mote_session = ptr::null_mut();
        assert_eq!(
            mote_session_create(m, base.cast(), need - 1, &mut s),
            MOTE_ERR_ARENA_TOO_SMALL
        );
        assert!(s.is_null());
        assert_eq!(
            mote_session_create(m, base.add(1).cast(), need, &mut s),
            MOTE_ERR_MISALIGNED
        );
        assert_eq!(
            mote_session_create(m, ptr::null_mut(), need, &mut s),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(
            mote_session_create(ptr::null(), base.cast(), need, &mut s),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(
            mote_session_create(m, base.cast(), need + 16, &mut s),
            MOTE_OK
        );

        // Wrong input size and index, with the runtime's own words.
        let four = [0u8; 4];
        assert_eq!(
            mote_session_set_input(s, 0, four.as_ptr().cast(), 4),
            MOTE_ERR_WRONG_SIZE
        );
        assert_eq!(
            last_error(s),
            "input 0 needs 2560 bytes, got 4 (check the shape and dtype)"
        );
        assert_eq!(
            mote_session_set_input(s, 3, four.as_ptr().cast(), 4),
            MOTE_ERR_BAD_INDEX
        );
        assert_eq!(last_error(s), "no input/output 3: the model has 1");
        assert_eq!(
            mote_session_set_input(s, 0, ptr::null(), 4),
            MOTE_ERR_NULL_POINTER
        );
        let mut dst: *mut c_void = ptr::null_mut();
        let mut n = 0usize;
        assert_eq!(
            mote_session_input_ptr(s, 0, &mut dst, ptr::null_mut()),
            MOTE_ERR_NULL_POINTER
        );
        assert_eq!(
            mote_session_input_ptr(s, 2, &mut dst, &mut n),
            MOTE_ERR_BAD_INDEX
        );
        // Outputs only after a run; a run clears the error; an input change needs a new run.
        assert_eq!(output(s, 0), Err(MOTE_ERR_NOT_RUN));
        assert_eq!(mote_session_run(s), MOTE_OK);
        assert_eq!(last_error(s), "");
        assert!(output(s, 0).is_ok());
        assert_eq!(mote_session_input_ptr(s, 0, &mut dst, &mut n), MOTE_OK);
        assert_eq!(output(s, 0), Err(MOTE_ERR_NOT_RUN));

        // Metadata: the compiler's version is always recorded; unknown keys are NOT_FOUND.
        let mut v: *const c_char = ptr::null();
        let mut vn = 0usize;
        assert_eq!(
            mote_model_metadata(m, c"compiler".as_ptr(), &mut v, &mut vn),
            MOTE_OK
        );
        let value = std::str::from_utf8(std::slice::from_raw_parts(v.cast::<u8>(), vn)).unwrap();
        assert!(value.starts_with("mote "), "{value}");
        assert_eq!(
            mote_model_metadata(m, c"no.such.key".as_ptr(), &mut v, &mut vn),
            MOTE_ERR_NOT_FOUND
        );
        assert_eq!(
            mote_model_metadata(m, ptr::null(), &mut v, &mut vn),
            MOTE_ERR_NULL_POINTER
        );

        mote_session_free(s);
        mote_model_free(m);
    }
}

#[test]
fn sessions_are_independent_and_run_on_threads() {
    let model = common::compile_ad01("ad01_fp32");
    let bytes = AlignedBytes::from_slice(&model);
    let m = load(&bytes);
    struct Shared(*mut mote_model);
    // SAFETY (test): a model handle is read-only after load; the API documents sharing it.
    unsafe impl Sync for Shared {}
    let shared = Shared(m);
    let results: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|t| {
                let shared = &shared;
                let model = &model;
                scope.spawn(move || {
                    let input = f32_bytes(
                        &common::input_f32(640)
                            .iter()
                            .map(|x| x * (t as f32 + 1.0))
                            .collect::<Vec<_>>(),
                    );
                    let mut s = ptr::null_mut();
                    assert_eq!(
                        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
                        unsafe { mote_session_create_alloc(shared.0, &mut s) },
                        MOTE_OK
                    );
                    let mut out = Vec::new();
                    for _ in 0..3 {
                        assert_eq!(
                            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
                            unsafe {
                                mote_session_set_input(s, 0, input.as_ptr().cast(), input.len())
                            },
                            MOTE_OK
                        );
                        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
                        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
                        out = output(s, 0).unwrap();
                    }
                    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
                    unsafe { mote_session_free(s) };
                    assert_eq!(out, common::run_rust(model, &input));
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_ne!(results[0], results[1]);
    // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
    unsafe { mote_model_free(m) };
}
