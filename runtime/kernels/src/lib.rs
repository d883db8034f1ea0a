//! mote's compute kernels.
//!
//! Why a crate of its own: kernels are the only code that will ever need `unsafe` (SIMD) and the
//! only code whose speed matters, so they are kept pure and separate from the model format and the
//! interpreter. A kernel is an infallible, allocation-free function of `(params, input slices,
//! output slice)`. Everything it relies on (shapes that fit the slices, valid strides, non-zero
//! sizes) was proven when the model was loaded; kernels only `debug_assert!`.
//!
//! Hostile models: the crates that read a model file (`mote-format`, `mote-runtime`) deny
//! `clippy::indexing_slicing` and `clippy::arithmetic_side_effects` in their validation, so a
//! hostile file is refused with a typed error before any kernel runs. The kernels' inner loops
//! are not under those lints: they run only on parameters that validation derived from checked
//! shapes (every extent product equals a u32 byte length, so index arithmetic cannot overflow a
//! 32- or 64-bit `usize`), and they index slices whose lengths were matched against those shapes
//! at the kernel's entry — an index out of range there would be a validation bug, which the
//! fuzzer (`scripts/fuzz.sh`, model target with overflow checks on) and `tests/mutation.rs` hunt.
//!
//! Layout: one operator, one module under [`ops`]. Each module holds the contract (`Params`, the
//! maths, the layout) in `mod.rs`, the portable scalar reference in `reference.rs`, and later one
//! file per instruction set. Spatial tensors are NHWC; weights of convolutions are
//! `[out_channels, kernel_h, kernel_w, in_channels / groups]` (OHWI), as in TFLite and CMSIS-NN.
//!
//! ## Instruction sets and dispatch
//!
//! The public kernel functions (`ops::conv2d::conv2d_s8`, `ops::fully_connected::fully_connected_s8`,
//! …) keep one signature whatever the host. Inside, they walk the op's `IMPLS` list (fastest first,
//! the portable reference last) and run the first entry whose instruction set is available and
//! whose shape rules accept the call; see [`dispatch`]. With the `std` feature the host CPU is
//! detected once at run time (`is_x86_feature_detected!`, cached in an atomic); without it the
//! choice is made at compile time from the enabled target features, so a `no_std` build for a
//! plain `x86_64` target runs the reference kernels unless built with e.g.
//! `-C target-feature=+avx2,+fma`.
//!
//! On aarch64 the host is detected with `is_aarch64_feature_detected!` (NEON, `dotprod` for
//! `sdot` and `i8mm` for `smmla`, both written with `asm!` because `vdotq_s32` and `vmmlaq_s32`
//! are nightly-only); without `std`, from `target_feature = "neon"` / `"dotprod"` / `"i8mm"`.
//! On x86-64, AVX-VNNI (`avxvnni`: the VEX `vpdpbusd` of Intel's client cores without AVX-512)
//! is a level of its own, [`Isa::Avx2Vnni`](dispatch::Isa::Avx2Vnni), between AVX2 and AVX-512. 32-bit Arm reports NEON from `target_feature =
//! "neon"` at compile time (no 32-bit NEON kernels yet).
//!
//! **aarch64 kernels** (Raspberry Pi 4 = Cortex-A72, NEON; Pi 5 = Cortex-A76, NEON + `sdot`):
//! int8 convolution `conv2d_s8_neon` (GEMM for 1×1, dense and grouped: `SMULL`/`SADALP`, or
//! `SMLAL2` first when the weights hold no −128; depthwise of any kernel size and stride, also
//! used by the dot-product entry), `conv2d_s8_neon_dotprod` (GEMM with `SDOT`) and
//! `conv2d_s8_neon_i8mm` (GEMM with `SMMLA`, Armv8.6: Cortex-A710, Neoverse N2/V1); f32
//! convolution `conv2d_f32_neon` (GEMM with `FMLA` by lane, depthwise); int8 fully connected
//! `fully_connected_s8{,_scaled}_neon{,_dotprod}` and f32 `fully_connected_f32_neon`; int8
//! add/sub/mul (`ops/binary/neon.rs`). Everything else runs the portable reference. The int8
//! requantization runs in vector form for both rounding modes (`arch::aarch64`), bit-exact with
//! `multiply_by_quantized_multiplier`. They are tested under QEMU (`scripts/arm-linux.sh`, both
//! CPUs, and `-cpu max` for i8mm) and their dynamic instruction counts measured there
//! (`scripts/aarch64-icount.sh`,
//! figures in `docs/benchmarks.md`).
//!
//! **Arm Cortex-M (DSP extension, SIMD32).** `ops/<op>/arm_dsp.rs` (conv2d: dense GEMM, im2col,
//! depthwise; fully connected) are chosen at compile time only: the build script sets
//! `cfg(mote_arm_dsp)` when the target is `thumbv7em-*` (Cortex-M4/M7) or `thumbv8m.main-*`
//! (Cortex-M33/M55; stable rustc does not report `target_feature = "dsp"`, hence the target
//! name), and [`Isa::ArmDsp`](dispatch::Isa::ArmDsp) is then available; `MOTE_NO_ARM_DSP=1` at
//! build time turns it off (a Cortex-M33 built without DSP, or to measure the portable kernels).
//! The instructions (`sxtb16`, `smlad`, `smlabb`, `smlatt`, `sadd16`) and the hot loops are
//! `asm!` on those targets; on every other target `arch::arm_dsp` emulates them bit for bit in
//! Rust, so the same kernels are compiled and property-tested against the references on the
//! x86 host (`cargo test -p mote-kernels arm_dsp`), and run with the real instructions under
//! QEMU (`targets/cortex-m/test.sh`: whole models equal to the host).
//!
//! **Arm Cortex-M55/M85 (Helium, MVE).** `ops/<op>/helium.rs` (conv2d: dense GEMM with
//! tail-predicated `vmladava.s8` loops, 3×3 depthwise, the vector output stage; fully connected)
//! are chosen at compile time too: the build script sets `cfg(mote_helium)` for
//! `thumbv8m.main-*` built with `-C target-cpu=cortex-m55`/`cortex-m85` or
//! `-C target-feature=+mve` (stable rustc does not report `target_feature = "mve"`), and
//! [`Isa::Helium`](dispatch::Isa::Helium), preferred to `ArmDsp`, is then available;
//! `MOTE_NO_HELIUM=1` at build time turns it off. The vector code is `asm!` there (no MVE
//! intrinsics in `core::arch`) and emulated bit for bit in Rust elsewhere (`arch::helium`), so
//! it is property-tested on the host (`cargo test -p mote-kernels helium`) and, with the real
//! instructions, under QEMU `mps3-an547` (`targets/cortex-m/kernel-check.sh m55`: every variant
//! against the reference on layer shapes; `targets/cortex-m/test.sh m55`: whole models). The
//! remaining portable kernels get LLVM's auto-vectorisation at `opt-level=3`.
//!
//! `unsafe` is confined to the instruction-set files (`arch/x86.rs`, `arch/arm_dsp.rs`,
//! `arch/aarch64.rs`, `ops/<op>/avx2.rs`, `ops/<op>/avx2_vnni.rs`, `ops/<op>/avx512_vnni.rs`,
//! `ops/<op>/neon.rs`, `ops/<op>/neon_dotprod.rs`, `ops/<op>/neon_i8mm.rs`, `ops/<op>/arm_dsp.rs`,
//! `arch/helium.rs`, `ops/<op>/helium.rs`);
//! every block states its
//! invariant in a `// SAFETY:` comment. The
//! two invariants used everywhere are: the instruction set was detected (a zero-sized token from
//! `arch::x86` proves it), and the slice lengths were checked against the shapes at the kernel's
//! entry (so every pointer offset computed from the shapes is in bounds).
//!
//! int8 kernels are bit-exact with their reference (integer sums are exact in any order, and the
//! requantization is the same function, in vector form); f32 kernels may differ from the
//! reference by rounding (fused multiply-add, another summation order): relative 1e-5 on the
//! property tests.
#![no_std]
// `unsafe` is denied crate-wide and allowed only on the instruction-set modules.
#![deny(
    unsafe_code,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]
#![warn(missing_docs)]
// No unwrap, expect or panic! on any path a model file or input can reach (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// Run-time CPU detection needs std; the unit tests use it too, so that they exercise every
// instruction set the host has whatever the crate's features.
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod activation;
mod arch;
pub mod dispatch;
pub mod ops;
pub mod quant;
pub mod shape;

pub use activation::Activation;
pub use shape::{Shape, MAX_RANK};
