//! Convolutions cut into bands of output rows (`Interpreter::with_workers`) give the outputs of
//! the whole layers: bit for bit in int8, within rounding in f32 (a band may take another f32
//! kernel than its layer, whose geometry differs). Every layer of two rows or more is cut
//! (`SequentialBands` ignores the work thresholds), into 2 to 5 bands, on the MLPerf Tiny models;
//! then the real pool (`ThreadPool`), cutting every layer and with the default thresholds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::AlignedBytes;
use mote_runtime::{Interpreter, Model, SequentialBands, ThreadPool, Workers};

/// (model, input, shape, whether its convolutions are f32).
const MODELS: &[(&str, &str, &[usize], bool)] = &[
    (
        "pretrainedResnet_quant",
        "input_1_int8",
        &[1, 32, 32, 3],
        false,
    ),
    ("pretrainedResnet", "input_1", &[1, 32, 32, 3], true),
    ("vww_96_int8", "input_1_int8", &[1, 96, 96, 3], false),
    ("vww_96_float", "input_1", &[1, 96, 96, 3], true),
    ("kws_ref_model", "input_1", &[1, 49, 10, 1], false),
    ("kws_ref_model_float32", "input_1", &[1, 49, 10, 1], true),
];

/// Every output's bytes after one run of `m` on a fixed input, with `workers` if any.
fn outputs(m: &Model<'_>, workers: Option<&dyn Workers>) -> Vec<Vec<u8>> {
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut cache = vec![0u8; Interpreter::weight_cache_len(m).unwrap()];
    let mut it = Interpreter::with_weight_cache(m, arena.as_bytes_mut(), &mut cache).unwrap();
    if let Some(w) = workers {
        it = it.with_workers(w);
    }
    let float_input = m.input(0).unwrap().dtype == mote_format::DType::F32;
    let input = it.input_mut(0).unwrap();
    if float_input {
        for (k, v) in input.chunks_exact_mut(4).enumerate() {
            v.copy_from_slice(&(((k * 37 % 251) as f32 - 125.0) / 64.0).to_le_bytes());
        }
    } else {
        for (k, b) in input.iter_mut().enumerate() {
            *b = (k * 37 % 251) as u8;
        }
    }
    it.invoke().unwrap();
    (0..m.output_count())
        .map(|i| it.output(i).unwrap().to_vec())
        .collect()
}

fn check(name: &str, float: bool, whole: &[Vec<u8>], banded: &[Vec<u8>], how: &str) {
    assert_eq!(whole.len(), banded.len());
    for (a, b) in whole.iter().zip(banded) {
        if float {
            for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
                let x = f32::from_le_bytes(x.try_into().unwrap());
                let y = f32::from_le_bytes(y.try_into().unwrap());
                assert!(
                    (x - y).abs() <= 1e-4 * (1.0 + x.abs()),
                    "{name}, {how}: {y} where the whole layers give {x}"
                );
            }
        } else {
            assert_eq!(a, b, "{name}, {how}: int8 outputs differ");
        }
    }
}

#[test]
fn bands_give_the_whole_layers_outputs() {
    for &(model, input, shape, float) in MODELS {
        let bytes =
            AlignedBytes::from_slice(&mote_tests::compiled_mlperf_tiny(model, input, shape));
        let m = Model::from_bytes(bytes.as_bytes()).unwrap();
        let whole = outputs(&m, None);
        for n in 2..=5 {
            let banded = outputs(&m, Some(&SequentialBands(n)));
            check(model, float, &whole, &banded, &format!("{n} bands"));
        }
        // Every layer cut, then the thresholds a host runs with.
        let every = ThreadPool::new(2).unwrap().with_min_band_macs(1, 1);
        let default = ThreadPool::new(3).unwrap();
        for round in 0..3 {
            for (pool, how) in [(&every, "every layer"), (&default, "default thresholds")] {
                let threaded = outputs(&m, Some(pool));
                let how = format!("threads, {how}, run {round}");
                check(model, float, &whole, &threaded, &how);
            }
        }
    }
}

#[test]
fn many_inferences_on_one_pool_agree_and_end() {
    // The pool's threads spin during each inference and stop after it: a thousand inferences in
    // a row on one pool must neither hang nor drift (one spinner per inference and thread).
    let bytes = AlignedBytes::from_slice(&mote_tests::compiled_mlperf_tiny(
        "pretrainedResnet_quant",
        "input_1_int8",
        &[1, 32, 32, 3],
    ));
    let m = Model::from_bytes(bytes.as_bytes()).unwrap();
    let whole = outputs(&m, None);
    let pool = ThreadPool::new(2).unwrap().with_min_band_macs(1, 1);
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut it = Interpreter::new(&m, arena.as_bytes_mut())
        .unwrap()
        .with_workers(&pool);
    for round in 0..1000 {
        for (k, b) in it.input_mut(0).unwrap().iter_mut().enumerate() {
            *b = (k * 37 % 251) as u8;
        }
        it.invoke().unwrap();
        assert_eq!(it.output(0).unwrap(), &whole[0][..], "inference {round}");
    }
}
