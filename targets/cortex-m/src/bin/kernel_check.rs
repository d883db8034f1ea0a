//! On-target check of the int8 kernels: every instruction-set variant the firmware is built
//! with (Helium on a Cortex-M55, the DSP extension on a Cortex-M4/M7/M55) against the portable
//! reference, bit for bit, on the MLPerf Tiny layer shapes and on seeded random ones. The
//! variants are chosen through the public dispatcher (`dispatch::set_limit`), so what runs is
//! exactly what a model would run. On the host the Helium and DSP kernels are tested with their
//! instructions emulated; this runs the real instructions (QEMU `mps3-an547` executes MVE).
//!
//! Prints one line per op (`ok conv2d: N cases ...`) and exits 0, or prints the first difference
//! and exits 1 (3 HardFault, 101 panic). Run by `targets/cortex-m/kernel-check.sh [m4|m7|m55]`;
//! the build script still wants `MOTE_MODEL` (any model: it is not used).
#![no_std]
#![no_main]

use core::fmt::Write;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::hio;
use mote_kernels::dispatch::{clear_limit, set_limit, Isa};
use mote_kernels::ops::binary::{add_s8, mul_s8, AddS8Params, BinaryOp, BinaryParams, MulS8Params};
use mote_kernels::ops::conv2d::{conv2d_s8, Conv2dParams, Conv2dS8Params};
use mote_kernels::ops::fully_connected::{fully_connected_s8, FullyConnectedS8Params};
use mote_kernels::quant::Rounding;
use mote_kernels::{Activation, Shape};

fn exit(code: u32) -> ! {
    const SYS_EXIT_EXTENDED: usize = 0x20;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    // SAFETY: the call only reads the two-word parameter block, which outlives it.
    unsafe {
        cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "panic: {info}");
    }
    exit(101)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "HardFault: {ef:?}");
    }
    exit(3)
}

/// xorshift64*: seeded, the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() >> 33) as i32 % (hi - lo + 1)
    }
    fn fill(&mut self, v: &mut [i8]) {
        for x in v {
            *x = self.int(-128, 127) as i8;
        }
    }
}

const MAX_IN: usize = 96 * 96 * 3;
const MAX_W: usize = 640 * 128;
const MAX_OUT: usize = 48 * 48 * 16;
const MAX_C: usize = 256;

/// The work buffers (statics: the stack is small).
struct Bufs {
    x: [i8; MAX_IN],
    w: [i8; MAX_W],
    bias: [i32; MAX_C],
    m: [i32; MAX_C],
    s: [i32; MAX_C],
    want: [i8; MAX_OUT],
    got: [i8; MAX_OUT],
}

static mut BUFS: Bufs = Bufs {
    x: [0; MAX_IN],
    w: [0; MAX_W],
    bias: [0; MAX_C],
    m: [0; MAX_C],
    s: [0; MAX_C],
    want: [0; MAX_OUT],
    got: [0; MAX_OUT],
};

/// The instruction sets to compare with the reference, most preferred first.
const ISAS: [Isa; 2] = [Isa::Helium, Isa::ArmDsp];

fn fail(what: &str, isa: Isa, i: usize, got: i8, want: i8, case: &dyn core::fmt::Debug) -> ! {
    if let Ok(mut e) = hio::hstdout() {
        let _ = writeln!(
            e,
            "FAIL {what} {}: first difference at {i}: got {got} want {want}\n{case:?}",
            isa.name()
        );
    }
    exit(1)
}

/// Random right-shift multipliers (shift in [−31, 0], some at the ends), as a quantized model has.
fn multipliers(rng: &mut Rng, m: &mut [i32], s: &mut [i32]) {
    for (m, s) in m.iter_mut().zip(s.iter_mut()) {
        *m = (1 << 30) + rng.int(0, (1 << 30) - 1);
        *s = match rng.int(0, 9) {
            0 => 0,
            1 => -31,
            _ => -rng.int(1, 14),
        };
    }
}

/// One convolution case against the reference.
fn conv_case(b: &mut Bufs, rng: &mut Rng, g: Conv2dParams, rounding: Rounding) {
    let in_len = g.batch * g.in_h * g.in_w * g.in_c;
    let w_len = g.out_c * g.kernel_h * g.kernel_w * (g.in_c / g.groups);
    let out_len = g.batch * g.out_h * g.out_w * g.out_c;
    if in_len > MAX_IN || w_len > MAX_W || out_len > MAX_OUT || g.out_c > MAX_C {
        return;
    }
    let lo = rng.int(-128, 0);
    let p = Conv2dS8Params {
        geometry: g,
        input_offset: rng.int(-127, 128),
        output_offset: rng.int(-128, 127),
        act_min: lo,
        act_max: rng.int(lo, 127),
        rounding,
    };
    rng.fill(&mut b.x[..in_len]);
    rng.fill(&mut b.w[..w_len]);
    for v in &mut b.bias[..g.out_c] {
        *v = rng.int(-20000, 20000);
    }
    multipliers(rng, &mut b.m[..g.out_c], &mut b.s[..g.out_c]);
    let run = |b: &mut Bufs, isa: Isa, dst: bool| {
        set_limit(isa);
        let out = if dst { &mut b.got } else { &mut b.want };
        conv2d_s8(
            &p,
            &b.x[..in_len],
            &b.w[..w_len],
            Some(&b.bias[..g.out_c]),
            &b.m[..g.out_c],
            &b.s[..g.out_c],
            &mut out[..out_len],
        );
    };
    run(b, Isa::Reference, false);
    for isa in ISAS {
        if !isa.supported_by_host() {
            continue;
        }
        b.got[..out_len].fill(0x55);
        run(b, isa, true);
        if let Some(i) = (0..out_len).find(|&i| b.got[i] != b.want[i]) {
            fail("conv2d", isa, i, b.got[i], b.want[i], &p);
        }
    }
    clear_limit();
}

fn geometry(
    (h, w, ic, oc, kh, kw, s, pt, pl, groups): (
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
    ),
) -> Conv2dParams {
    let out = |x: usize, k: usize, p: usize| (x + 2 * p - k) / s + 1;
    Conv2dParams {
        batch: 1,
        in_h: h,
        in_w: w,
        in_c: ic,
        out_h: out(h, kh, pt),
        out_w: out(w, kw, pl),
        out_c: oc,
        kernel_h: kh,
        kernel_w: kw,
        stride_h: s,
        stride_w: s,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: pt,
        pad_left: pl,
        groups,
        activation: Activation::None,
    }
}

fn check_conv(b: &mut Bufs, rng: &mut Rng) -> usize {
    // (h, w, in_c, out_c, kh, kw, stride, pad_t, pad_l, groups): the MLPerf Tiny layers.
    let shapes = [
        (96, 96, 3, 8, 3, 3, 2, 0, 0, 1),
        (48, 48, 8, 8, 3, 3, 1, 1, 1, 8),
        (48, 48, 8, 16, 1, 1, 1, 0, 0, 1),
        (12, 12, 64, 64, 3, 3, 2, 0, 0, 64),
        (3, 3, 256, 256, 1, 1, 1, 0, 0, 1),
        (32, 32, 3, 16, 3, 3, 1, 1, 1, 1),
        (16, 16, 32, 64, 3, 3, 2, 0, 0, 1),
        (8, 8, 64, 64, 3, 3, 1, 1, 1, 1),
        (16, 16, 16, 32, 1, 1, 2, 0, 0, 1),
        (49, 10, 1, 64, 10, 4, 2, 4, 1, 1),
        (25, 5, 64, 64, 3, 3, 1, 1, 1, 64),
        (25, 5, 64, 64, 1, 1, 1, 0, 0, 1),
        (3, 70, 12, 12, 3, 3, 1, 1, 1, 12),
        (4, 62, 8, 8, 3, 3, 1, 1, 1, 8),
    ];
    let mut n = 0;
    for shape in shapes {
        for rounding in [Rounding::Double, Rounding::Single] {
            conv_case(b, rng, geometry(shape), rounding);
            n += 1;
        }
    }
    for i in 0..300 {
        let dw = i % 3 == 0;
        let ic = if dw {
            4 * rng.int(1, 10) as usize
        } else {
            rng.int(1, 40) as usize
        };
        let k = rng.int(1, 3) as usize;
        let s = rng.int(1, 2) as usize;
        let pad = rng.int(0, (k / 2) as i32) as usize;
        let h = rng.int(k as i32, 12) as usize;
        let w = rng.int(k as i32, 20) as usize;
        // Every third case that is not depthwise is grouped (2-4 groups, ResNeXt-style).
        let groups = if !dw && i % 3 == 1 {
            rng.int(2, 4) as usize
        } else {
            1
        };
        let shape = if dw {
            (h.max(3), w.max(3), ic, ic, 3, 3, s, pad, pad, ic)
        } else if groups > 1 {
            let (cpg, opg) = (rng.int(1, 12) as usize, rng.int(1, 12) as usize);
            (h, w, groups * cpg, groups * opg, k, k, s, pad, pad, groups)
        } else {
            (h, w, ic, rng.int(1, 40) as usize, k, k, s, pad, pad, 1)
        };
        let mut g = geometry(shape);
        g.batch = rng.int(1, 2) as usize;
        let rounding = if i % 2 == 0 {
            Rounding::Double
        } else {
            Rounding::Single
        };
        conv_case(b, rng, g, rounding);
        n += 1;
    }
    n
}

fn check_fc(b: &mut Bufs, rng: &mut Rng) -> usize {
    let mut n = 0;
    for i in 0..200 {
        let (rows, depth, units) = match i {
            0 => (1, 640, 128),
            1 => (1, 128, 8),
            2 => (1, 64, 12),
            3 => (1, 256, 2),
            _ => (
                rng.int(1, 3) as usize,
                rng.int(1, 200) as usize,
                rng.int(1, 40) as usize,
            ),
        };
        let per_channel = i % 2 == 0;
        let nm = if per_channel { units } else { 1 };
        let lo = rng.int(-128, 0);
        let p = FullyConnectedS8Params {
            rows,
            depth,
            units,
            input_offset: rng.int(-127, 128),
            output_offset: rng.int(-128, 127),
            act_min: lo,
            act_max: rng.int(lo, 127),
            rounding: if i % 4 < 2 {
                Rounding::Double
            } else {
                Rounding::Single
            },
        };
        rng.fill(&mut b.x[..rows * depth]);
        rng.fill(&mut b.w[..units * depth]);
        for v in &mut b.bias[..units] {
            *v = rng.int(-20000, 20000);
        }
        multipliers(rng, &mut b.m[..nm], &mut b.s[..nm]);
        let out_len = rows * units;
        let run = |b: &mut Bufs, isa: Isa, dst: bool| {
            set_limit(isa);
            let out = if dst { &mut b.got } else { &mut b.want };
            fully_connected_s8(
                &p,
                &b.x[..rows * depth],
                &b.w[..units * depth],
                Some(&b.bias[..units]),
                &b.m[..nm],
                &b.s[..nm],
                &mut out[..out_len],
            );
        };
        run(b, Isa::Reference, false);
        for isa in ISAS {
            if !isa.supported_by_host() {
                continue;
            }
            b.got[..out_len].fill(0x55);
            run(b, isa, true);
            if let Some(j) = (0..out_len).find(|&j| b.got[j] != b.want[j]) {
                fail("fully_connected", isa, j, b.got[j], b.want[j], &p);
            }
        }
        clear_limit();
        n += 1;
    }
    n
}

/// Runs an elementwise op through the dispatcher on the first `len` bytes of `x` and `w`: the
/// reference, then every compiled-in variant, failing on the first element that differs.
fn compare_elementwise(
    b: &mut Bufs,
    len: usize,
    what: &str,
    case: &dyn core::fmt::Debug,
    op: impl Fn(&[i8], &[i8], &mut [i8]),
) {
    let run = |b: &mut Bufs, isa: Isa, dst: bool| {
        set_limit(isa);
        let out = if dst { &mut b.got } else { &mut b.want };
        op(&b.x[..len], &b.w[..len], &mut out[..len]);
    };
    run(b, Isa::Reference, false);
    for isa in ISAS {
        if !isa.supported_by_host() {
            continue;
        }
        b.got[..len].fill(0x55);
        run(b, isa, true);
        if let Some(j) = (0..len).find(|&j| b.got[j] != b.want[j]) {
            fail(what, isa, j, b.got[j], b.want[j], case);
        }
    }
    clear_limit();
}

fn check_add(b: &mut Bufs, rng: &mut Rng) -> usize {
    let mut n = 0;
    for i in 0..200 {
        let len = match i {
            0 => 32 * 32 * 16,
            1 => 16 * 16 * 32,
            _ => rng.int(1, 300) as usize,
        };
        let shape = Shape::new(&[len]);
        let lo = rng.int(-128, 0);
        let p = AddS8Params {
            shapes: BinaryParams {
                op: if i % 5 == 4 {
                    BinaryOp::Sub
                } else {
                    BinaryOp::Add
                },
                a: shape,
                b: shape,
                out: shape,
                activation: Activation::None,
            },
            input1_offset: rng.int(-127, 128),
            input2_offset: rng.int(-127, 128),
            output_offset: rng.int(-128, 127),
            left_shift: 20,
            input1_multiplier: (1 << 30) + rng.int(0, (1 << 30) - 1),
            input1_shift: -rng.int(0, 3),
            input2_multiplier: (1 << 30) + rng.int(0, (1 << 30) - 1),
            input2_shift: -rng.int(0, 3),
            output_multiplier: (1 << 30) + rng.int(0, (1 << 30) - 1),
            output_shift: -rng.int(17, 22),
            act_min: lo,
            act_max: rng.int(lo, 127),
            rounding: if i % 4 < 3 {
                Rounding::Double
            } else {
                Rounding::Single
            },
        };
        // The two inputs: x and w (w is the larger buffer).
        rng.fill(&mut b.x[..len]);
        rng.fill(&mut b.w[..len]);
        compare_elementwise(b, len, "add", &p, |x, y, o| add_s8(&p, x, y, o));
        n += 1;
    }
    n
}

fn check_mul(b: &mut Bufs, rng: &mut Rng) -> usize {
    let mut n = 0;
    for i in 0..200 {
        let len = if i == 0 {
            32 * 32 * 16
        } else {
            rng.int(1, 300) as usize
        };
        let shape = Shape::new(&[len]);
        let lo = rng.int(-128, 0);
        let p = MulS8Params {
            shapes: BinaryParams {
                op: BinaryOp::Mul,
                a: shape,
                b: shape,
                out: shape,
                activation: Activation::None,
            },
            input1_offset: rng.int(-127, 128),
            input2_offset: rng.int(-127, 128),
            output_offset: rng.int(-128, 127),
            output_multiplier: (1 << 30) + rng.int(0, (1 << 30) - 1),
            output_shift: -rng.int(5, 12),
            act_min: lo,
            act_max: rng.int(lo, 127),
            rounding: if i % 2 == 0 {
                Rounding::Double
            } else {
                Rounding::Single
            },
        };
        rng.fill(&mut b.x[..len]);
        rng.fill(&mut b.w[..len]);
        compare_elementwise(b, len, "mul", &p, |x, y, o| mul_s8(&p, x, y, o));
        n += 1;
    }
    n
}

#[entry]
fn main() -> ! {
    // SAFETY: the only reference ever taken to BUFS (single-threaded, taken once).
    let b = unsafe { &mut *core::ptr::addr_of_mut!(BUFS) };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = hio::hstdout().ok();
    let isas = ISAS
        .iter()
        .filter(|i| i.supported_by_host())
        .map(|i| i.name());
    if let Some(o) = out.as_mut() {
        let _ = write!(o, "variants compiled in:");
        for name in isas {
            let _ = write!(o, " {name}");
        }
        let _ = writeln!(o);
    }
    let n = check_conv(b, &mut rng);
    if let Some(o) = out.as_mut() {
        let _ = writeln!(o, "ok conv2d_s8: {n} cases equal the reference");
    }
    let n = check_fc(b, &mut rng);
    if let Some(o) = out.as_mut() {
        let _ = writeln!(o, "ok fully_connected_s8: {n} cases equal the reference");
    }
    let n = check_add(b, &mut rng);
    if let Some(o) = out.as_mut() {
        let _ = writeln!(o, "ok add_s8: {n} cases equal the reference");
    }
    let n = check_mul(b, &mut rng);
    if let Some(o) = out.as_mut() {
        let _ = writeln!(o, "ok mul_s8: {n} cases equal the reference");
    }
    exit(0)
}
