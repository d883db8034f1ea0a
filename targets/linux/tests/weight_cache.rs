//! The weight cache the CLI lends the interpreter (`Interpreter::with_weight_cache`: the int8
//! GEMM kernels' packed weights, made once at load) changes nothing but speed: on real models
//! every output byte equals a run without it, and a cache that is too small is refused with the
//! bytes needed. On a host whose kernels use no cache its length is 0 and both runs are the
//! uncached path. Likewise the prepared ops (`Interpreter::with_prepared_ops`: every op's
//! parameters decoded once): the same bytes out, and too few slots refused with the op count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use mote_format::AlignedBytes;
use mote_runtime::{Error, Interpreter, Model, PreparedSlot};

fn compile(name: &str) -> AlignedBytes {
    let onnx = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models/mlperf-tiny")
            .join(name),
    )
    .unwrap();
    // The MLPerf Tiny conversions leave the batch dynamic: fix each input as the error suggests.
    let mut opts = mote_compiler::CompileOptions::default();
    loop {
        match mote_compiler::compile(&onnx, &opts) {
            Ok(c) => return AlignedBytes::from_slice(&c.bytes),
            Err(mote_compiler::CompileError::DynamicDim { input, suggest, .. }) => {
                let dims = suggest.split(',').map(|d| d.parse().unwrap()).collect();
                opts.input_shapes.push((input.to_string(), dims));
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

/// Runs `m` on a fixed pseudo-random input, with or without a weight cache and prepared ops;
/// returns output 0.
fn run(m: &Model<'_>, cached: bool, prepared: bool) -> Vec<u8> {
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut cache = vec![0u8; Interpreter::weight_cache_len(m).unwrap()];
    let mut slots = vec![PreparedSlot::default(); m.file().op_count()];
    let mut it = if cached {
        Interpreter::with_weight_cache(m, arena.as_bytes_mut(), &mut cache).unwrap()
    } else {
        Interpreter::new(m, arena.as_bytes_mut()).unwrap()
    };
    if prepared {
        it = it.with_prepared_ops(&mut slots).unwrap();
    }
    let input = it.input_mut(0).unwrap();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for b in input.iter_mut() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Bytes of an int8 input, or of floats in a sane range for a float one.
        *b = (s >> 56) as u8;
    }
    if m.input(0).unwrap().dtype == mote_format::DType::F32 {
        for v in it.input_f32_mut(0).unwrap() {
            *v = (*v).clamp(-1.0, 1.0);
            if !v.is_finite() {
                *v = 0.5;
            }
        }
    }
    it.invoke().unwrap();
    it.output(0).unwrap().to_vec()
}

#[test]
fn cached_runs_equal_uncached_runs() {
    for name in [
        "vww_96_int8.onnx",
        "pretrainedResnet_quant.onnx",
        "kws_ref_model.onnx",
    ] {
        let bytes = compile(name);
        let m = Model::from_bytes(bytes.as_bytes()).unwrap();
        let len = Interpreter::weight_cache_len(&m).unwrap();
        println!("{name}: weight cache {len} bytes");
        assert_eq!(run(&m, true, false), run(&m, false, false), "{name}");
    }
}

#[test]
fn prepared_runs_equal_runs_that_prepare_each_op() {
    for name in [
        "vww_96_int8.onnx",
        "pretrainedResnet_quant.onnx",
        "kws_ref_model.onnx",
        "vww_96_float.onnx",
    ] {
        let bytes = compile(name);
        let m = Model::from_bytes(bytes.as_bytes()).unwrap();
        let reference = run(&m, false, false);
        assert_eq!(run(&m, false, true), reference, "{name}");
        assert_eq!(run(&m, true, true), reference, "{name}");
    }
}

#[test]
fn too_few_prepared_slots_are_refused_with_the_op_count() {
    let bytes = compile("vww_96_int8.onnx");
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let ops = m.file().op_count();
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut slots = vec![PreparedSlot::default(); ops - 1];
    let e = Interpreter::new(&m, arena.as_bytes_mut())
        .unwrap()
        .with_prepared_ops(&mut slots)
        .err();
    assert_eq!(
        e,
        Some(Error::PreparedOpsTooFew {
            needed: ops,
            given: ops - 1
        })
    );
    assert!(e.unwrap().to_string().contains(&ops.to_string()));
}

#[test]
fn too_small_a_cache_is_refused_with_the_bytes_needed() {
    let bytes = compile("vww_96_int8.onnx");
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let needed = Interpreter::weight_cache_len(&m).unwrap();
    if needed == 0 {
        println!("this host's kernels use no weight cache");
        return;
    }
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut cache = vec![0u8; needed - 100];
    let e = Interpreter::with_weight_cache(&m, arena.as_bytes_mut(), &mut cache).err();
    assert_eq!(
        e,
        Some(Error::WeightCacheTooSmall {
            needed,
            given: needed - 100
        })
    );
    assert!(e.unwrap().to_string().contains(&needed.to_string()));
}
