//! The weight cache's layout: the per-op slots the interpreter reads on every run (looked up in
//! the cache's header) add up to what `weight_cache_len` asked for, and the cached run gives the
//! uncached run's outputs. On a machine whose kernels use no cache (no AVX-512 VNNI) both
//! lengths are 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::AlignedBytes;

fn compiled(model: &str, input: &str, shape: &[usize]) -> Vec<u8> {
    mote_tests::compiled_mlperf_tiny(model, input, shape)
}

#[test]
fn cache_slots_add_up_and_outputs_match() {
    // ResNet-8 (int8 and float): dense 3×3, 1×1 and fully connected layers.
    for (name, input) in [
        ("pretrainedResnet_quant", "input_1_int8"),
        ("pretrainedResnet", "input_1"),
    ] {
        let bytes = AlignedBytes::from_slice(&compiled(name, input, &[1, 32, 32, 3]));
        let m = mote_runtime::Model::from_bytes(bytes.as_bytes()).unwrap();
        let len = mote_runtime::Interpreter::weight_cache_len(&m).unwrap();
        let mut cache = vec![0u8; len];
        let mut arena_a = AlignedBytes::zeroed(m.arena_len());
        let mut arena_b = AlignedBytes::zeroed(m.arena_len());
        let mut cached =
            mote_runtime::Interpreter::with_weight_cache(&m, arena_a.as_bytes_mut(), &mut cache)
                .unwrap();
        let mut plain = mote_runtime::Interpreter::new(&m, arena_b.as_bytes_mut()).unwrap();
        let ops = m.file().op_count();
        let words: usize = (0..=ops).map(|i| cached.weight_cache_words(i)).sum();
        assert_eq!(
            cached.weight_cache_words(ops),
            0,
            "{name}: a slot past the last op"
        );
        if len == 0 {
            assert_eq!(words, 0, "{name}");
        } else {
            // The slots, a header of one word per op and one more (in whole 64-byte lines), and
            // the alignment slack.
            let header = (ops + 1).next_multiple_of(16);
            assert_eq!(4 * (words + header) + 64, len, "{name}: slots");
            assert!(words > 0, "{name}: no op reads the cache");
        }
        let input = cached.input_mut(0).unwrap();
        for (k, b) in input.iter_mut().enumerate() {
            *b = (k * 37 % 251) as u8;
        }
        let copy = input.to_vec();
        plain.input_mut(0).unwrap().copy_from_slice(&copy);
        cached.invoke().unwrap();
        plain.invoke().unwrap();
        assert_eq!(
            cached.output(0).unwrap(),
            plain.output(0).unwrap(),
            "{name}"
        );
    }
}
