//! Hostile model files: every compiled test model, mutated thousands of ways (bit flips,
//! truncation, length and offset fields set to 0 / max / negative-as-unsigned, sections
//! swapped), must load with a typed error or load and run — never panic, never read outside
//! its buffers (a panic here is how an out-of-bounds read would show).
//!
//! Mutations are resealed (the checksum rewritten) so that they reach the structural and
//! semantic checks instead of stopping at the CRC; a share is left unsealed to check that the
//! checksum catches them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::AlignedBytes;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn reseal(b: &mut [u8]) {
    if b.len() >= 20 {
        let crc = crc32(&b[20..]);
        b[16..20].copy_from_slice(&crc.to_le_bytes());
    }
}

fn crc32(b: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in b {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn u32_at(b: &[u8], at: usize) -> usize {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().unwrap()) as usize)
        .unwrap_or(0)
}

/// Offsets of interesting 32-bit fields: header, section table, and the first words of tensor
/// and op records (their offsets, lengths, indices).
fn fields(b: &[u8]) -> Vec<usize> {
    let mut f = vec![8, 12, 24, 28];
    let n = u32_at(b, 28).min(64);
    for s in 0..n {
        let e = 48 + 16 * s;
        f.extend([e, e + 4, e + 8]);
        let (kind, off, len) = (u32_at(b, e), u32_at(b, e + 4), u32_at(b, e + 8));
        let rec = match kind {
            2 => 48,
            3 => 32,
            _ => 0,
        };
        if rec > 0 {
            let mut at = off;
            while at + rec <= off + len && at + rec <= b.len() {
                for w in (0..rec).step_by(4) {
                    f.push(at + w);
                }
                at += rec;
            }
        }
    }
    f
}

/// Loads and, if it validates, runs the model with a zero input. Returns whether it loaded.
fn try_model(bytes: &[u8]) -> bool {
    let a = AlignedBytes::from_slice(bytes);
    let Ok(m) = mote_runtime::Model::from_bytes(a.as_bytes()) else {
        return false;
    };
    if m.arena_len() > 64 << 20 {
        return true; // a valid file may ask for a huge arena; the caller decides whether to lend it
    }
    // Without and with the weight cache the CLI lends (the kernels' packed weights, filled at
    // load from the file's constants).
    for cached in [false, true] {
        let mut arena = AlignedBytes::zeroed(m.arena_len());
        let cache_len = if cached {
            match mote_runtime::Interpreter::weight_cache_len(&m) {
                Ok(n) if n <= 64 << 20 => n,
                _ => continue,
            }
        } else {
            0
        };
        let mut cache = vec![0u8; cache_len];
        let it = if cached {
            mote_runtime::Interpreter::with_weight_cache(&m, arena.as_bytes_mut(), &mut cache)
        } else {
            mote_runtime::Interpreter::new(&m, arena.as_bytes_mut())
        };
        if let Ok(mut it) = it {
            let _ = it.invoke();
            for i in 0..m.output_count() {
                let _ = it.output(i);
            }
        }
    }
    true
}

fn mutate(good: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = good.to_vec();
    let kind = rng.below(6);
    match kind {
        0 => {
            let at = rng.below(b.len());
            b[at] ^= 1 << rng.below(8);
        }
        1 => {
            let n = rng.below(b.len());
            b.truncate(n);
        }
        2 | 3 => {
            let f = fields(&b);
            let at = f[rng.below(f.len())];
            let v: u32 = match rng.below(5) {
                0 => 0,
                1 => u32::MAX,
                2 => 0x8000_0000,
                3 => (rng.next() as u32) % (b.len() as u32 + 64),
                _ => u32_at(&b, at) as u32 + 1,
            };
            if at + 4 <= b.len() {
                b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        4 => {
            // Swap two section table entries' kinds.
            let n = u32_at(&b, 28).min(64);
            if n >= 2 {
                let (i, j) = (rng.below(n), rng.below(n));
                let (ei, ej) = (48 + 16 * i, 48 + 16 * j);
                let ki = b[ei..ei + 4].to_vec();
                let kj = b[ej..ej + 4].to_vec();
                b[ei..ei + 4].copy_from_slice(&kj);
                b[ej..ej + 4].copy_from_slice(&ki);
            }
        }
        _ => {
            // A burst of random bytes.
            let at = rng.below(b.len());
            for k in 0..8.min(b.len() - at) {
                b[at + k] = rng.next() as u8;
            }
        }
    }
    if rng.below(10) != 0 {
        reseal(&mut b);
    }
    b
}

fn compiled(model: &str, input: &str, shape: &[usize]) -> Vec<u8> {
    mote_tests::compiled_mlperf_tiny(model, input, shape)
}

#[test]
fn mutated_models_error_or_run_never_panic() {
    let models = [
        ("ad01_int8", "input_1", vec![1, 640], 4000),
        ("kws_ref_model", "input_1", vec![1, 49, 10, 1], 3000),
        (
            "pretrainedResnet_quant",
            "input_1_int8",
            vec![1, 32, 32, 3],
            1500,
        ),
        ("ad01_fp32", "input_1", vec![1, 640], 2000),
        ("kws_ref_model_float32", "input_1", vec![1, 49, 10, 1], 1500),
    ];
    let mut total = 0;
    for (model, input, shape, count) in models {
        let good = compiled(model, input, &shape);
        assert!(try_model(&good), "{model}: the unmutated model must load");
        let mut rng = Rng(0x5EED ^ good.len() as u64);
        let mut loaded = 0;
        for _ in 0..count {
            let b = mutate(&good, &mut rng);
            if try_model(&b) {
                loaded += 1;
            }
        }
        println!(
            "{model}: {count} mutations, {loaded} still valid (ran), {} rejected with an error",
            count - loaded
        );
        total += count;
    }
    println!("total mutations: {total}");
}

/// A `--rounding float` file whose requantization scales are not finite and positive (NaN,
/// infinity, zero, negative: the f32 bits in a convolution's multiplier words) is refused at
/// load with an error naming the scales; the untouched file loads and runs.
#[test]
fn float_scale_files_refuse_bad_scales() {
    let onnx =
        std::fs::read(mote_tests::repo().join("models/mlperf-tiny/pretrainedResnet_quant.onnx"))
            .unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input_1_int8".into(), vec![1, 32, 32, 3])],
        rounding: mote_compiler::layout::QuantRounding::Float,
        ..Default::default()
    };
    let good = mote_compiler::compile(&onnx, &opts).unwrap().bytes;
    assert!(try_model(&good), "the float-scale file must load and run");
    // The byte offset of the first convolution's multipliers (its fourth input) in the file.
    let at = {
        let a = AlignedBytes::from_slice(&good);
        let m = mote_runtime::Model::from_bytes(a.as_bytes()).unwrap();
        let f = *m.file();
        let conv = (0..f.op_count())
            .map(|i| f.op(i).unwrap())
            .find(|op| op.params.opcode().name().starts_with("Conv2dS8"))
            .expect("a Conv2dS8");
        let t = f.tensor(conv.inputs.get(3).unwrap()).unwrap();
        let mote_format::Storage::Const(bytes) = t.storage else {
            panic!("multipliers must be constant")
        };
        let first = f32::from_le_bytes(bytes[..4].try_into().unwrap());
        assert!(
            first.is_finite() && first > 0.0 && first < 1.0,
            "a float scale: {first}"
        );
        bytes.as_ptr() as usize - a.as_bytes().as_ptr() as usize
    };
    for bad in [f32::NAN, f32::INFINITY, 0.0, -0.01] {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        let a = AlignedBytes::from_slice(&b);
        match mote_runtime::Model::from_bytes(a.as_bytes()) {
            Ok(_) => panic!("scale {bad}: the file loaded"),
            Err(e) => {
                let msg = format!("{e}");
                assert!(
                    msg.contains("requantization scale not finite and positive"),
                    "scale {bad}: {msg}"
                );
            }
        }
    }
}
