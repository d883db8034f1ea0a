//! Throughput of the AVX-512 instruction mixes in mote's int8 kernels, on registers only (no
//! memory traffic beyond a few cached dwords), so each figure is what the core can issue:
//!
//!     cargo run --release --manifest-path tools/x86-port-probe/Cargo.toml
//!
//! Each loop body is a fixed sequence in `asm!` (the compiler may not reorder, fuse or split
//! it). The figures answer the questions the GEMM tiles raised (docs/benchmarks.md, session
//! 17): does a `vpbroadcastd` per `vpdpbusd` cost anything (no, on Zen 4), does a `vpxord` per
//! `vpdpbusd` (yes: 0.86 of the rate), and how long the f32 output stage and the narrowing take
//! beside 16 `vpdpbusd`. Cycles assume the clock the `vpdpbusd`-only loop implies (one per
//! cycle).
#![cfg(target_arch = "x86_64")]
use std::arch::asm;
use std::time::Instant;

// 12 independent accumulators, each iteration 12 dpbusd.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn separate(n: usize, mem: *const i32) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm0, zmm0, zmm0", "vpxord zmm1, zmm1, zmm1", "vpxord zmm2, zmm2, zmm2", "vpxord zmm3, zmm3, zmm3",
        "vpxord zmm4, zmm4, zmm4", "vpxord zmm5, zmm5, zmm5", "vpxord zmm6, zmm6, zmm6", "vpxord zmm7, zmm7, zmm7",
        "vpxord zmm8, zmm8, zmm8", "vpxord zmm9, zmm9, zmm9", "vpxord zmm10, zmm10, zmm10", "vpxord zmm11, zmm11, zmm11",
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpbroadcastd zmm30, dword ptr [{m}]", "vpdpbusd zmm0, zmm20, zmm30",
        "vpbroadcastd zmm31, dword ptr [{m}+4]", "vpdpbusd zmm1, zmm20, zmm31",
        "vpbroadcastd zmm29, dword ptr [{m}+8]", "vpdpbusd zmm2, zmm20, zmm29",
        "vpbroadcastd zmm28, dword ptr [{m}+12]", "vpdpbusd zmm3, zmm20, zmm28",
        "vpbroadcastd zmm27, dword ptr [{m}+16]", "vpdpbusd zmm4, zmm20, zmm27",
        "vpbroadcastd zmm26, dword ptr [{m}+20]", "vpdpbusd zmm5, zmm20, zmm26",
        "vpbroadcastd zmm30, dword ptr [{m}+24]", "vpdpbusd zmm6, zmm20, zmm30",
        "vpbroadcastd zmm31, dword ptr [{m}+28]", "vpdpbusd zmm7, zmm20, zmm31",
        "vpbroadcastd zmm29, dword ptr [{m}+32]", "vpdpbusd zmm8, zmm20, zmm29",
        "vpbroadcastd zmm28, dword ptr [{m}+36]", "vpdpbusd zmm9, zmm20, zmm28",
        "vpbroadcastd zmm27, dword ptr [{m}+40]", "vpdpbusd zmm10, zmm20, zmm27",
        "vpbroadcastd zmm26, dword ptr [{m}+44]", "vpdpbusd zmm11, zmm20, zmm26",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _, m = in(reg) mem,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
        out("zmm20") _, out("zmm26") _, out("zmm27") _, out("zmm28") _, out("zmm29") _, out("zmm30") _, out("zmm31") _,
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn withxor(n: usize, mem: *const i32) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm0, zmm0, zmm0", "vpxord zmm1, zmm1, zmm1", "vpxord zmm2, zmm2, zmm2", "vpxord zmm3, zmm3, zmm3",
        "vpxord zmm4, zmm4, zmm4", "vpxord zmm5, zmm5, zmm5", "vpxord zmm6, zmm6, zmm6", "vpxord zmm7, zmm7, zmm7",
        "vpxord zmm8, zmm8, zmm8", "vpxord zmm9, zmm9, zmm9", "vpxord zmm10, zmm10, zmm10", "vpxord zmm11, zmm11, zmm11",
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpbroadcastd zmm30, dword ptr [{m}]", "vpxord zmm30, zmm30, zmm21", "vpdpbusd zmm0, zmm20, zmm30",
        "vpbroadcastd zmm31, dword ptr [{m}+4]", "vpxord zmm31, zmm31, zmm21", "vpdpbusd zmm1, zmm20, zmm31",
        "vpbroadcastd zmm29, dword ptr [{m}+8]", "vpxord zmm29, zmm29, zmm21", "vpdpbusd zmm2, zmm20, zmm29",
        "vpbroadcastd zmm28, dword ptr [{m}+12]", "vpxord zmm28, zmm28, zmm21", "vpdpbusd zmm3, zmm20, zmm28",
        "vpbroadcastd zmm27, dword ptr [{m}+16]", "vpxord zmm27, zmm27, zmm21", "vpdpbusd zmm4, zmm20, zmm27",
        "vpbroadcastd zmm26, dword ptr [{m}+20]", "vpxord zmm26, zmm26, zmm21", "vpdpbusd zmm5, zmm20, zmm26",
        "vpbroadcastd zmm30, dword ptr [{m}+24]", "vpxord zmm30, zmm30, zmm21", "vpdpbusd zmm6, zmm20, zmm30",
        "vpbroadcastd zmm31, dword ptr [{m}+28]", "vpxord zmm31, zmm31, zmm21", "vpdpbusd zmm7, zmm20, zmm31",
        "vpbroadcastd zmm29, dword ptr [{m}+32]", "vpxord zmm29, zmm29, zmm21", "vpdpbusd zmm8, zmm20, zmm29",
        "vpbroadcastd zmm28, dword ptr [{m}+36]", "vpxord zmm28, zmm28, zmm21", "vpdpbusd zmm9, zmm20, zmm28",
        "vpbroadcastd zmm27, dword ptr [{m}+40]", "vpxord zmm27, zmm27, zmm21", "vpdpbusd zmm10, zmm20, zmm27",
        "vpbroadcastd zmm26, dword ptr [{m}+44]", "vpxord zmm26, zmm26, zmm21", "vpdpbusd zmm11, zmm20, zmm26",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _, m = in(reg) mem,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
        out("zmm20") _, out("zmm21") _, out("zmm26") _, out("zmm27") _, out("zmm28") _, out("zmm29") _, out("zmm30") _, out("zmm31") _,
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn embedded(n: usize, mem: *const i32) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm0, zmm0, zmm0", "vpxord zmm1, zmm1, zmm1", "vpxord zmm2, zmm2, zmm2", "vpxord zmm3, zmm3, zmm3",
        "vpxord zmm4, zmm4, zmm4", "vpxord zmm5, zmm5, zmm5", "vpxord zmm6, zmm6, zmm6", "vpxord zmm7, zmm7, zmm7",
        "vpxord zmm8, zmm8, zmm8", "vpxord zmm9, zmm9, zmm9", "vpxord zmm10, zmm10, zmm10", "vpxord zmm11, zmm11, zmm11",
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpdpbusd zmm0, zmm20, dword ptr [{m}]{{1to16}}",
        "vpdpbusd zmm1, zmm20, dword ptr [{m}+4]{{1to16}}",
        "vpdpbusd zmm2, zmm20, dword ptr [{m}+8]{{1to16}}",
        "vpdpbusd zmm3, zmm20, dword ptr [{m}+12]{{1to16}}",
        "vpdpbusd zmm4, zmm20, dword ptr [{m}+16]{{1to16}}",
        "vpdpbusd zmm5, zmm20, dword ptr [{m}+20]{{1to16}}",
        "vpdpbusd zmm6, zmm20, dword ptr [{m}+24]{{1to16}}",
        "vpdpbusd zmm7, zmm20, dword ptr [{m}+28]{{1to16}}",
        "vpdpbusd zmm8, zmm20, dword ptr [{m}+32]{{1to16}}",
        "vpdpbusd zmm9, zmm20, dword ptr [{m}+36]{{1to16}}",
        "vpdpbusd zmm10, zmm20, dword ptr [{m}+40]{{1to16}}",
        "vpdpbusd zmm11, zmm20, dword ptr [{m}+44]{{1to16}}",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _, m = in(reg) mem,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
        out("zmm20") _,
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn regonly(n: usize) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpdpbusd zmm0, zmm20, zmm21", "vpdpbusd zmm1, zmm20, zmm21", "vpdpbusd zmm2, zmm20, zmm21",
        "vpdpbusd zmm3, zmm20, zmm21", "vpdpbusd zmm4, zmm20, zmm21", "vpdpbusd zmm5, zmm20, zmm21",
        "vpdpbusd zmm6, zmm20, zmm21", "vpdpbusd zmm7, zmm20, zmm21", "vpdpbusd zmm8, zmm20, zmm21",
        "vpdpbusd zmm9, zmm20, zmm21", "vpdpbusd zmm10, zmm20, zmm21", "vpdpbusd zmm11, zmm20, zmm21",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
        out("zmm20") _, out("zmm21") _,
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn fstage(n: usize) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vcvtdq2ps zmm0, zmm20", "vcvtdq2ps zmm1, zmm21", "vcvtdq2ps zmm2, zmm22", "vcvtdq2ps zmm3, zmm23",
        "vmulps zmm0, zmm0, zmm24", "vmulps zmm1, zmm1, zmm24", "vmulps zmm2, zmm2, zmm24", "vmulps zmm3, zmm3, zmm24",
        "vminps zmm0, zmm0, zmm25", "vminps zmm1, zmm1, zmm25", "vminps zmm2, zmm2, zmm25", "vminps zmm3, zmm3, zmm25",
        "vcvtps2dq zmm4, zmm0", "vcvtps2dq zmm5, zmm1", "vcvtps2dq zmm6, zmm2", "vcvtps2dq zmm7, zmm3",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _, out("zmm24") _, out("zmm25") _,
    );
}
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn cvtonly(n: usize) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vcvtdq2ps zmm0, zmm20", "vcvtdq2ps zmm1, zmm21", "vcvtdq2ps zmm2, zmm22", "vcvtdq2ps zmm3, zmm23",
        "vcvtdq2ps zmm4, zmm20", "vcvtdq2ps zmm5, zmm21", "vcvtdq2ps zmm6, zmm22", "vcvtdq2ps zmm7, zmm23",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _,
    );
}
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn packs(n: usize) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpackssdw zmm0, zmm20, zmm21", "vpackssdw zmm1, zmm22, zmm23", "vpacksswb zmm2, zmm20, zmm21", "vpermd zmm3, zmm22, zmm23",
        "vpackssdw zmm4, zmm20, zmm21", "vpackssdw zmm5, zmm22, zmm23", "vpacksswb zmm6, zmm20, zmm21", "vpermd zmm7, zmm22, zmm23",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _,
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn mix(n: usize) {
    // per iteration: 4 vectors x (4 dpbusd) + 4 x float stage (16 ops)
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpdpbusd zmm8, zmm20, zmm21", "vpdpbusd zmm9, zmm20, zmm21", "vpdpbusd zmm10, zmm20, zmm21", "vpdpbusd zmm11, zmm20, zmm21",
        "vpdpbusd zmm12, zmm20, zmm21", "vpdpbusd zmm13, zmm20, zmm21", "vpdpbusd zmm14, zmm20, zmm21", "vpdpbusd zmm15, zmm20, zmm21",
        "vpdpbusd zmm16, zmm20, zmm21", "vpdpbusd zmm17, zmm20, zmm21", "vpdpbusd zmm18, zmm20, zmm21", "vpdpbusd zmm19, zmm20, zmm21",
        "vpdpbusd zmm26, zmm20, zmm21", "vpdpbusd zmm27, zmm20, zmm21", "vpdpbusd zmm28, zmm20, zmm21", "vpdpbusd zmm29, zmm20, zmm21",
        "vcvtdq2ps zmm0, zmm20", "vcvtdq2ps zmm1, zmm21", "vcvtdq2ps zmm2, zmm22", "vcvtdq2ps zmm3, zmm23",
        "vmulps zmm0, zmm0, zmm24", "vmulps zmm1, zmm1, zmm24", "vmulps zmm2, zmm2, zmm24", "vmulps zmm3, zmm3, zmm24",
        "vminps zmm0, zmm0, zmm25", "vminps zmm1, zmm1, zmm25", "vminps zmm2, zmm2, zmm25", "vminps zmm3, zmm3, zmm25",
        "vcvtps2dq zmm4, zmm0", "vcvtps2dq zmm5, zmm1", "vcvtps2dq zmm6, zmm2", "vcvtps2dq zmm7, zmm3",
        "vpackssdw zmm0, zmm4, zmm5", "vpackssdw zmm1, zmm6, zmm7", "vpaddsw zmm0, zmm0, zmm25", "vpaddsw zmm1, zmm1, zmm25",
        "vpacksswb zmm2, zmm0, zmm1", "vpmaxsb zmm2, zmm2, zmm25", "vpermd zmm3, zmm22, zmm2",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _, out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _, out("zmm16") _, out("zmm17") _, out("zmm18") _, out("zmm19") _, out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _, out("zmm24") _, out("zmm25") _, out("zmm26") _, out("zmm27") _, out("zmm28") _, out("zmm29") _,
    );
}
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn mixnocvt(n: usize) {
    // SAFETY: register-only vector instructions (plus dword loads from `mem`, 64 readable
    // dwords) on registers declared as clobbered; the caller checked AVX-512 VNNI.
    asm!(
        "vpxord zmm20, zmm20, zmm20",
        "2:",
        "vpdpbusd zmm8, zmm20, zmm21", "vpdpbusd zmm9, zmm20, zmm21", "vpdpbusd zmm10, zmm20, zmm21", "vpdpbusd zmm11, zmm20, zmm21",
        "vpdpbusd zmm12, zmm20, zmm21", "vpdpbusd zmm13, zmm20, zmm21", "vpdpbusd zmm14, zmm20, zmm21", "vpdpbusd zmm15, zmm20, zmm21",
        "vpdpbusd zmm16, zmm20, zmm21", "vpdpbusd zmm17, zmm20, zmm21", "vpdpbusd zmm18, zmm20, zmm21", "vpdpbusd zmm19, zmm20, zmm21",
        "vpdpbusd zmm26, zmm20, zmm21", "vpdpbusd zmm27, zmm20, zmm21", "vpdpbusd zmm28, zmm20, zmm21", "vpdpbusd zmm29, zmm20, zmm21",
        "vpackssdw zmm0, zmm4, zmm5", "vpackssdw zmm1, zmm6, zmm7", "vpaddsw zmm0, zmm0, zmm25", "vpaddsw zmm1, zmm1, zmm25",
        "vpacksswb zmm2, zmm0, zmm1", "vpmaxsb zmm2, zmm2, zmm25", "vpermd zmm3, zmm22, zmm2",
        "dec {n}", "jnz 2b",
        n = inout(reg) n => _,
        out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _, out("zmm5") _,
        out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _, out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _, out("zmm16") _, out("zmm17") _, out("zmm18") _, out("zmm19") _, out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _, out("zmm24") _, out("zmm25") _, out("zmm26") _, out("zmm27") _, out("zmm28") _, out("zmm29") _,
    );
}

fn main() {
    if !(is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vnni")) {
        eprintln!("x86-port-probe: this CPU lacks AVX-512 VNNI");
        return;
    }
    let mem = vec![1i32; 64];
    let n = 20_000_000usize;
    // SAFETY (every call below): AVX-512 VNNI checked above; `mem` holds 64 dwords.
    for round in 0..3 {
        let t = Instant::now();
        unsafe { regonly(n) };
        let r = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { separate(n, mem.as_ptr()) };
        let s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { embedded(n, mem.as_ptr()) };
        let e = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { withxor(n, mem.as_ptr()) };
        let xo = t.elapsed().as_secs_f64();
        let g = |x: f64| (n * 12) as f64 / x / 1e9;
        // Seconds per cycle, taking the `vpdpbusd`-only loop as one per cycle.
        let cyc = r / (n * 12) as f64;
        let t = Instant::now();
        unsafe { mix(n) };
        let mx = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { mixnocvt(n) };
        let mn = t.elapsed().as_secs_f64();
        println!("mix: {:.2} cycles/iter (16 dpbusd + 16 float + 7 narrow); without the float stage {:.2}", mx / cyc / n as f64, mn / cyc / n as f64);
        let t = Instant::now();
        unsafe { fstage(n) };
        let f = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { cvtonly(n) };
        let c = t.elapsed().as_secs_f64();
        let t = Instant::now();
        unsafe { packs(n) };
        let p = t.elapsed().as_secs_f64();
        println!(
            "float stage: {:.2} G ops/s (16 per iter); cvt only {:.2} G/s; packs/perm {:.2} G/s",
            (n * 16) as f64 / f / 1e9,
            (n * 8) as f64 / c / 1e9,
            (n * 8) as f64 / p / 1e9
        );
        println!("round {round}: reg-only {:.2} G dpbusd/s, separate bcast {:.2}, embedded bcast {:.2}, bcast+xor {:.2}", g(r), g(s), g(e), g(xo));
    }
}
