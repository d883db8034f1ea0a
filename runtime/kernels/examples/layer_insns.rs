//! Runs one representative int8 layer `N` times with the kernels capped at one instruction set,
//! so an instruction counter (a QEMU TCG plugin, under `qemu-aarch64`) can compare the portable
//! reference with the NEON and dot-product kernels: run with `N = 1` and `N = 11`, the difference
//! divided by 10 is the count of one call.
//!
//! `cargo run --release -p mote-kernels --features std --example layer_insns -- ISA LAYER N`
//! with ISA one of `reference`, `neon`, `neon_dotprod` (or an x86 one), LAYER one of
//! `fc` (MobileNetV2's classifier, 1280 → 1000), `add` (a residual add, 14×14×64), `mul`.
use std::hint::black_box;

use mote_kernels::dispatch::{set_limit, Isa};
use mote_kernels::ops::binary::{add_s8, mul_s8, AddS8Params, BinaryOp, BinaryParams, MulS8Params};
use mote_kernels::ops::fully_connected::{fully_connected_s8, FullyConnectedS8Params};
use mote_kernels::quant::Rounding;
use mote_kernels::Shape;

fn bytes(n: usize, seed: u32) -> Vec<i8> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as i8
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let isa_name = args.get(1).map_or("reference", String::as_str);
    let layer = args.get(2).map_or("fc", String::as_str);
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let Some(isa) = Isa::ALL.iter().copied().find(|i| i.name() == isa_name) else {
        eprintln!("unknown instruction set {isa_name}");
        std::process::exit(2);
    };
    if !isa.supported_by_host() {
        eprintln!("host lacks {isa_name}");
        std::process::exit(2);
    }
    set_limit(isa);
    match layer {
        "fc" => {
            let p = FullyConnectedS8Params {
                rows: 1,
                depth: 1280,
                units: 1000,
                input_offset: 5,
                output_offset: -3,
                act_min: -128,
                act_max: 127,
                rounding: Rounding::Double,
            };
            let x = bytes(1280, 1);
            let w = bytes(1280 * 1000, 2);
            let b: Vec<i32> = (0..1000).map(|i| i * 7 - 3000).collect();
            let mut y = vec![0i8; 1000];
            for _ in 0..n {
                fully_connected_s8(&p, black_box(&x), &w, Some(&b), &[1 << 30], &[-8], &mut y);
            }
            black_box(&y);
        }
        "add" | "mul" => {
            let s = Shape::new(&[1, 14, 14, 64]);
            let len = 14 * 14 * 64;
            let a = bytes(len, 3);
            let b = bytes(len, 4);
            let mut y = vec![0i8; len];
            let shapes = BinaryParams {
                op: BinaryOp::Add,
                a: s,
                b: s,
                out: s,
                activation: Default::default(),
            };
            for _ in 0..n {
                if layer == "add" {
                    let p = AddS8Params {
                        shapes,
                        input1_offset: 3,
                        input2_offset: -7,
                        output_offset: 2,
                        left_shift: 20,
                        input1_multiplier: 1_500_000_000,
                        input1_shift: -1,
                        input2_multiplier: 1_300_000_000,
                        input2_shift: -2,
                        output_multiplier: 1_200_000_000,
                        output_shift: -19,
                        act_min: -128,
                        act_max: 127,
                        rounding: Rounding::Double,
                    };
                    add_s8(&p, black_box(&a), &b, &mut y);
                } else {
                    let p = MulS8Params {
                        shapes: BinaryParams {
                            op: BinaryOp::Mul,
                            ..shapes
                        },
                        input1_offset: 3,
                        input2_offset: -7,
                        output_offset: 2,
                        output_multiplier: 1_200_000_000,
                        output_shift: -7,
                        act_min: -128,
                        act_max: 127,
                        rounding: Rounding::Double,
                    };
                    mul_s8(&p, black_box(&a), &b, &mut y);
                }
            }
            black_box(&y);
        }
        _ => {
            eprintln!("unknown layer {layer}");
            std::process::exit(2);
        }
    }
}
