//! Every entry of the fully connected `IMPLS` lists against the portable reference: bit for bit
//! for int8 (both output stages), relative 1e-5 for f32; depths and unit counts around the
//! vector widths (16, 64), zero points ±128, extreme multipliers and scales. Entries whose
//! instruction set the host lacks print "skipped".
extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::reference::fully_connected_f32_reference;
use super::reference_s8::{fully_connected_s8_reference, fully_connected_s8_scaled_reference};
use super::{
    FullyConnectedParams, FullyConnectedS8Params, FULLY_CONNECTED_F32_IMPLS,
    FULLY_CONNECTED_S8_IMPLS, FULLY_CONNECTED_S8_SCALED_IMPLS,
};
use crate::ops::test_util::{close, Rng};
use crate::quant::Rounding;
use crate::Activation;

struct Case {
    p: FullyConnectedS8Params,
    x: Vec<i8>,
    w: Vec<i8>,
    bias: Option<Vec<i32>>,
    m: Vec<i32>,
    s: Vec<i32>,
    scales: Vec<f64>,
}

fn make_case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    const D: [usize; 12] = [1, 3, 15, 16, 17, 63, 64, 65, 100, 128, 129, 300];
    let rows = 1 + rng.below(3) as usize;
    let depth = D[rng.below(D.len() as u64) as usize];
    let units = 1 + rng.below(20) as usize;
    let zp = match rng.below(4) {
        0 => -128,
        1 => 127,
        _ => rng.int(-128, 127) as i32,
    };
    let a = rng.int(-128, 127) as i32;
    let b = rng.int(-128, 127) as i32;
    let (act_min, act_max) = if rng.below(2) == 0 {
        (-128, 127)
    } else {
        (a.min(b), a.max(b))
    };
    let p = FullyConnectedS8Params {
        rows,
        depth,
        units,
        input_offset: -zp,
        output_offset: rng.int(-128, 127) as i32,
        act_min,
        act_max,
        rounding: match rng.below(3) {
            0 => Rounding::Single,
            1 => Rounding::Float,
            _ => Rounding::Double,
        },
    };
    let extreme = rng.below(4) == 0;
    let byte = |rng: &mut Rng| {
        if extreme {
            if rng.below(2) == 0 {
                -128i8
            } else {
                127
            }
        } else {
            rng.int(-128, 127) as i8
        }
    };
    let x = (0..rows * depth).map(|_| byte(&mut rng)).collect();
    let w = (0..units * depth).map(|_| byte(&mut rng)).collect();
    let bias = (rng.below(4) != 0).then(|| {
        (0..units)
            .map(|_| rng.int(-100_000, 100_000) as i32)
            .collect()
    });
    let n = if rng.below(2) == 0 { 1 } else { units };
    let float = p.rounding == Rounding::Float;
    let m = (0..n)
        .map(|_| {
            if float {
                crate::ops::test_util::float_scale_bits(&mut rng)
            } else {
                (1 << 30) + rng.below(1 << 30) as i32
            }
        })
        .collect();
    let s = (0..n)
        .map(|_| -(rng.below(32) as i32) + if rng.below(8) == 0 { 12 } else { 0 })
        .collect();
    let scales = (0..n)
        .map(|_| f64::from(rng.unit().abs()) * 0.01 / (1 + rng.below(100)) as f64)
        .collect();
    Case {
        p,
        x,
        w,
        bias,
        m,
        s,
        scales,
    }
}

fn check(seed: u64) -> Result<(), std::string::String> {
    let c = make_case(seed);
    let len = c.p.rows * c.p.units;
    let mut want = vec![0i8; len];
    fully_connected_s8_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut want);
    for imp in FULLY_CONNECTED_S8_IMPLS {
        if imp.isa.supported_by_host() {
            let mut got = vec![0x55i8; len];
            if !(imp.f)(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut got) {
                return Err(std::format!("{} declined {:?}", imp.name, c.p));
            }
            if got != want {
                return Err(std::format!(
                    "{}: {got:?} != {want:?} ({:?})",
                    imp.name,
                    c.p
                ));
            }
        }
    }
    fully_connected_s8_scaled_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.scales, &mut want);
    for imp in FULLY_CONNECTED_S8_SCALED_IMPLS {
        if imp.isa.supported_by_host() {
            let mut got = vec![0x55i8; len];
            if !(imp.f)(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.scales, &mut got) {
                return Err(std::format!("{} declined {:?}", imp.name, c.p));
            }
            if got != want {
                return Err(std::format!(
                    "{}: {got:?} != {want:?} ({:?})",
                    imp.name,
                    c.p
                ));
            }
        }
    }
    // f32 on the same shapes.
    let mut rng = Rng::new(seed ^ 0xf32);
    let pf = FullyConnectedParams {
        rows: c.p.rows,
        depth: c.p.depth,
        units: c.p.units,
        activation: if rng.below(2) == 0 {
            Activation::Relu
        } else {
            Activation::None
        },
    };
    let x = rng.units(c.x.len());
    let w = rng.units(c.w.len());
    let b = c.bias.as_ref().map(|b| rng.units(b.len()));
    let mut want = vec![0f32; len];
    fully_connected_f32_reference(&pf, &x, &w, b.as_deref(), &mut want);
    for imp in FULLY_CONNECTED_F32_IMPLS {
        if imp.isa.supported_by_host() {
            let mut got = vec![f32::NAN; len];
            if !(imp.f)(&pf, &x, &w, b.as_deref(), &mut got) {
                return Err(std::format!("{} declined", imp.name));
            }
            close(&got, &want, 1e-5).map_err(|e| std::format!("{}: {e}", imp.name))?;
        }
    }
    Ok(())
}

#[test]
fn fully_connected_impls_match_reference() {
    for imp in FULLY_CONNECTED_S8_IMPLS {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for imp in FULLY_CONNECTED_F32_IMPLS {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for seed in 0..crate::ops::test_util::iterations(600) {
        let r = check(seed);
        assert!(r.is_ok(), "seed {seed}: {r:?}");
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(200))]
    #[test]
    fn fully_connected_impls_match_reference_prop(seed in any::<u64>()) {
        let r = check(seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

/// The Arm DSP kernels (instructions emulated on this host) against the references, both
/// output stages, on every case.
fn check_arm_dsp(seed: u64) -> Result<(), std::string::String> {
    check_kernels(
        seed,
        super::arm_dsp::fully_connected_s8_any_host,
        super::arm_dsp::fully_connected_s8_scaled_any_host,
    )
}

/// A pair of kernels (multiplier and double-scale output stages) against the references.
fn check_kernels(
    seed: u64,
    f: super::FullyConnectedS8Fn,
    f_scaled: super::FullyConnectedS8ScaledFn,
) -> Result<(), std::string::String> {
    let c = make_case(seed);
    let len = c.p.rows * c.p.units;
    let mut want = vec![0i8; len];
    let mut got = vec![0x55i8; len];
    fully_connected_s8_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut want);
    // Declined exactly when a multiplier is not a right shift.
    let right =
        c.m.iter().zip(&c.s).all(|(&m, &s)| {
            crate::quant::PreparedMultiplier::new(m, s, c.p.rounding).is_right_shift()
        });
    let ran = f(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut got);
    if ran != right {
        return Err(std::format!("ran {ran}, right shifts {right}: {:?}", c.p));
    }
    if ran && got != want {
        return Err(std::format!("{got:?} != {want:?} ({:?})", c.p));
    }
    fully_connected_s8_scaled_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.scales, &mut want);
    if !f_scaled(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.scales, &mut got) {
        return Err(std::format!("scaled declined {:?}", c.p));
    }
    if got != want {
        return Err(std::format!("scaled: {got:?} != {want:?} ({:?})", c.p));
    }
    Ok(())
}

#[test]
fn fully_connected_arm_dsp_matches_reference() {
    for seed in 0..crate::ops::test_util::iterations(600) {
        let r = check_arm_dsp(seed);
        assert!(r.is_ok(), "seed {seed}: {r:?}");
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(200))]
    #[test]
    fn fully_connected_arm_dsp_matches_reference_prop(seed in any::<u64>()) {
        let r = check_arm_dsp(seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

/// The Helium kernels (vector code emulated on this host) against the references.
fn check_helium(seed: u64) -> Result<(), std::string::String> {
    check_kernels(
        seed,
        super::helium::fully_connected_s8_any_host,
        super::helium::fully_connected_s8_scaled_any_host,
    )
}

#[test]
fn fully_connected_helium_matches_reference() {
    for seed in 0..600 {
        let r = check_helium(seed);
        assert!(r.is_ok(), "seed {seed}: {r:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn fully_connected_helium_matches_reference_prop(seed in any::<u64>()) {
        let r = check_helium(seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}
