//! x86-64: CPU detection, the zero-sized tokens that prove an instruction set is available, and
//! the vector form of the int8 output stage (requantize, add the output zero point, clamp).
//!
//! The vector requantization is [`multiply_by_quantized_multiplier`] with
//! [`Rounding::Double`](crate::quant::Rounding::Double), lane by lane, for shifts in `[-31, 30]`;
//! it also reports the lanes where a left shift would overflow (`x · 2^shift` outside i32), which
//! callers then recompute with the scalar function. The exhaustive edge-value tests at the end of
//! this file compare it with the scalar definition.
//!
//! [`multiply_by_quantized_multiplier`]: crate::quant::multiply_by_quantized_multiplier

use core::arch::x86_64::*;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::dispatch::Isa;

const DETECTED: u8 = 1;
const HAS_AVX2: u8 = 2;
const HAS_AVX512_VNNI: u8 = 4;
/// AVX-512 VBMI besides the VNNI set (Ice Lake, Zen 4 and later; Cascade Lake has VNNI only).
const HAS_AVX512_VBMI: u8 = 8;
/// AVX-VNNI: the VEX `vpdpbusd` (Alder Lake and later client cores; Zen 5).
const HAS_AVX_VNNI: u8 = 16;

/// Detection result, `0` until the first query.
static FEATURES: AtomicU8 = AtomicU8::new(0);

#[cfg(any(feature = "std", test))]
fn detect() -> u8 {
    use std::is_x86_feature_detected as has;
    let mut f = DETECTED;
    if has!("avx2") && has!("fma") {
        f |= HAS_AVX2;
        if has!("avxvnni") {
            f |= HAS_AVX_VNNI;
        }
        if has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512vnni") {
            f |= HAS_AVX512_VNNI;
            if has!("avx512vbmi") {
                f |= HAS_AVX512_VBMI;
            }
        }
    }
    f
}

#[cfg(not(any(feature = "std", test)))]
fn detect() -> u8 {
    let mut f = DETECTED;
    if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
        f |= HAS_AVX2;
        if cfg!(target_feature = "avxvnni") {
            f |= HAS_AVX_VNNI;
        }
        if cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vl",
            target_feature = "avx512vnni"
        )) {
            f |= HAS_AVX512_VNNI;
            if cfg!(target_feature = "avx512vbmi") {
                f |= HAS_AVX512_VBMI;
            }
        }
    }
    f
}

/// The detected feature bits (detected once, then cached).
#[inline]
fn features() -> u8 {
    let mut f = FEATURES.load(Ordering::Relaxed);
    if f == 0 {
        // Racing first calls compute the same value; storing it twice is harmless.
        f = detect();
        FEATURES.store(f, Ordering::Relaxed);
    }
    f
}

/// Whether the host supports `isa` (detected once, then cached).
#[inline]
pub(crate) fn host_supports(isa: Isa) -> bool {
    let f = features();
    match isa {
        Isa::Reference => true,
        Isa::Avx2 => f & HAS_AVX2 != 0,
        // Set only together with AVX2 (`detect`).
        Isa::Avx2Vnni => f & HAS_AVX_VNNI != 0,
        Isa::Avx512Vnni => f & HAS_AVX512_VNNI != 0,
        _ => false,
    }
}

/// Proof that AVX2 and FMA are available (and allowed by [`crate::dispatch::set_limit`]). Only
/// [`Avx2::get`] makes one, so holding one is the safety argument for calling
/// `#[target_feature(enable = "avx2,fma")]` functions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::Avx2.available().then_some(Avx2(()))
    }
}

/// Proof that AVX2, FMA and AVX-VNNI are available (see [`Avx2`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2Vnni(());

impl Avx2Vnni {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::Avx2Vnni.available().then_some(Avx2Vnni(()))
    }
}

/// Proof that AVX-512 F/BW/VL/VNNI, AVX2 and FMA are available (see [`Avx2`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512Vnni(());

impl Avx512Vnni {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::Avx512Vnni.available().then_some(Avx512Vnni(()))
    }
}

/// Proof that AVX-512 VBMI (`vpermi2b`) is available besides everything [`Avx512Vnni`] proves.
/// Not an instruction-set level of its own: kernels of the AVX-512 level use it where present.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512Vbmi(());

impl Avx512Vbmi {
    /// A token if the AVX-512 level is available and the host has VBMI.
    #[inline]
    pub(crate) fn get(_t: Avx512Vnni) -> Option<Self> {
        (features() & HAS_AVX512_VBMI != 0).then_some(Avx512Vbmi(()))
    }
}

pub(crate) use super::OutputStage;

/// Whether every shift is in `[-31, 30]`, the range of the vector requantization (TFLite's).
pub(crate) fn shifts_in_vector_range(shifts: &[i32]) -> bool {
    shifts_within(shifts, -31, 30)
}

// ---------------------------------------------------------------------------------------------
// AVX2 (8 lanes)
// ---------------------------------------------------------------------------------------------

/// gemmlowp's `SaturatingRoundingDoublingHighMul` on 8 lanes: `⌊(a·b + 2^30) / 2^31⌋`, with
/// `a = b = i32::MIN` saturating to `i32::MAX`.
///
/// The floor of the 64-bit sum shifted right by 31 fits in i32 (except the saturating case), so
/// a logical shift gives the right low 32 bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn srdhm_avx2(a: __m256i, b: __m256i) -> __m256i {
    let nudge = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(a, b), nudge));
    let a_odd = _mm256_srli_epi64::<32>(a);
    let b_odd = _mm256_srli_epi64::<32>(b);
    // Bits 31..62 of the odd products moved to bits 32..63 (the odd lanes).
    let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(_mm256_mul_epi32(a_odd, b_odd), nudge));
    let r = _mm256_blend_epi32::<0b1010_1010>(even, odd);
    let min = _mm256_set1_epi32(i32::MIN);
    // MIN · MIN gave 2^31, read as MIN; flipping every bit gives MAX.
    let sat = _mm256_and_si256(_mm256_cmpeq_epi32(a, min), _mm256_cmpeq_epi32(b, min));
    _mm256_xor_si256(r, sat)
}

/// gemmlowp's `RoundingDivideByPOT` on 8 lanes, exponents in `[0, 31]`.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn rdbpot_avx2(x: __m256i, e: __m256i) -> __m256i {
    let one = _mm256_set1_epi32(1);
    let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
    let rem = _mm256_and_si256(x, mask);
    let thr = _mm256_add_epi32(_mm256_srli_epi32::<1>(mask), _mm256_srli_epi32::<31>(x));
    // cmpgt is -1 where the remainder rounds up.
    _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(rem, thr))
}

/// Per-channel requantization constants for 8 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Requant8 {
    pub(crate) mult: __m256i,
    pub(crate) left: __m256i,
    pub(crate) right: __m256i,
}

impl Requant8 {
    /// From 8 multipliers and shifts (shifts in `[-31, 30]`).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn new(mult: __m256i, shift: __m256i) -> Self {
        let zero = _mm256_setzero_si256();
        Requant8 {
            mult,
            left: _mm256_max_epi32(shift, zero),
            right: _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero),
        }
    }

    /// Loads `n ≤ 8` multipliers and shifts (lanes past `n` read as 0).
    ///
    /// # Safety
    /// `mult` and `shift` must be valid for reading `n` i32s.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) unsafe fn load(mult: *const i32, shift: *const i32, n: usize) -> Self {
        // SAFETY: the caller guarantees `n` readable lanes; the masked load reads only those.
        let (m, s) = unsafe { (maskload_i32_avx2(mult, n), maskload_i32_avx2(shift, n)) };
        Self::new(m, s)
    }

    /// Double-rounding requantization and the output stage: returns the clamped outputs (as i32
    /// lanes) and a bit mask of the lanes whose left shift overflowed (those lanes are wrong and
    /// must be recomputed with the scalar function).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn apply(&self, acc: __m256i, st: &OutputStage) -> (__m256i, i32) {
        let xs = _mm256_sllv_epi32(acc, self.left);
        let back = _mm256_cmpeq_epi32(_mm256_srav_epi32(xs, self.left), acc);
        let ovf = !_mm256_movemask_ps(_mm256_castsi256_ps(back)) & 0xff;
        let v = rdbpot_avx2(srdhm_avx2(xs, self.mult), self.right);
        let v = _mm256_max_epi32(v, _mm256_set1_epi32(st.lo));
        let v = _mm256_min_epi32(v, _mm256_set1_epi32(st.hi));
        (_mm256_add_epi32(v, _mm256_set1_epi32(st.off)), ovf)
    }
}

/// [`Requant8`] for calls where no shift is positive and no multiplier is `i32::MIN`
/// ([`simple_requant`], checked once per call): then nothing is shifted left, so no lane can
/// overflow, and `SaturatingRoundingDoublingHighMul` never saturates; the constants of the
/// rounding right shift are computed once per block of channels instead of per tile row. The
/// same results as [`Requant8::apply`] on such calls, in about half the instructions.
#[derive(Clone, Copy)]
pub(crate) struct Requant8Simple {
    mult: __m256i,
    mult_odd: __m256i,
    right: __m256i,
    mask: __m256i,
    half: __m256i,
}

impl Requant8Simple {
    /// Loads `n ≤ 8` multipliers and shifts (each shift in `[-31, 0]`; lanes past `n` read 0).
    ///
    /// # Safety
    /// `mult` and `shift` must be valid for reading `n` i32s.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) unsafe fn load(mult: *const i32, shift: *const i32, n: usize) -> Self {
        // SAFETY: the caller guarantees `n` readable lanes; the masked load reads only those.
        let (m, s) = unsafe { (maskload_i32_avx2(mult, n), maskload_i32_avx2(shift, n)) };
        let right = _mm256_sub_epi32(_mm256_setzero_si256(), s);
        let one = _mm256_set1_epi32(1);
        let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
        Requant8Simple {
            mult: m,
            mult_odd: _mm256_srli_epi64::<32>(m),
            right,
            mask,
            half: _mm256_srli_epi32::<1>(mask),
        }
    }

    /// The same constants on every lane (`shift` in `[-31, 0]`).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn splat(mult: i32, shift: i32) -> Self {
        let (m, s) = ([mult; 8], [shift; 8]);
        // SAFETY: both arrays hold 8 lanes.
        unsafe { Self::load(m.as_ptr(), s.as_ptr(), 8) }
    }

    /// The rescaling alone, `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, mult),
    /// right)`, without the output stage (the inputs of Add/Sub).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn rescale(&self, x: __m256i) -> __m256i {
        let nudge = _mm256_set1_epi64x(1 << 30);
        let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(x, self.mult), nudge));
        let odd = _mm256_mul_epi32(_mm256_srli_epi64::<32>(x), self.mult_odd);
        let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(odd, nudge));
        let x = _mm256_blend_epi32::<0b1010_1010>(even, odd);
        let rem = _mm256_and_si256(x, self.mask);
        let thr = _mm256_add_epi32(self.half, _mm256_srli_epi32::<31>(x));
        _mm256_sub_epi32(
            _mm256_srav_epi32(x, self.right),
            _mm256_cmpgt_epi32(rem, thr),
        )
    }

    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc, mult), right)` and the output
    /// stage (as [`srdhm_avx2`] and [`rdbpot_avx2`], without the saturation and overflow
    /// handling these calls cannot need).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn apply(&self, acc: __m256i, st: &OutputStage) -> __m256i {
        let v = self.rescale(acc);
        let v = _mm256_max_epi32(v, _mm256_set1_epi32(st.lo));
        let v = _mm256_min_epi32(v, _mm256_set1_epi32(st.hi));
        _mm256_add_epi32(v, _mm256_set1_epi32(st.off))
    }
}

/// Loads lanes `0..n` (`n ≤ 8`) of an i32 array; the others are 0.
///
/// # Safety
/// `p` must be valid for reading `n` i32s.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) unsafe fn maskload_i32_avx2(p: *const i32, n: usize) -> __m256i {
    if n >= 8 {
        // SAFETY: 8 lanes readable (caller).
        return unsafe { _mm256_loadu_si256(p.cast()) };
    }
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx);
    // SAFETY: masked-off lanes are not accessed (VPMASKMOVD does not fault on them); the
    // first `n` are readable (caller).
    unsafe { _mm256_maskload_epi32(p, mask) }
}

/// Packs two vectors of 8 i32 already in `[-128, 127]` into 16 bytes, `a` first.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn pack_16_avx2(a: __m256i, b: __m256i) -> __m128i {
    // [a0-3 b0-3 | a4-7 b4-7] as i16, then bytes with each half repeated.
    let w = _mm256_packs_epi32(a, b);
    let bytes = _mm256_packs_epi16(w, w);
    // Dwords: 0 = a0-3, 1 = b0-3, 4 = a4-7, 5 = b4-7.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
    _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order))
}

// ---------------------------------------------------------------------------------------------
// AVX-512 (16 lanes)
// ---------------------------------------------------------------------------------------------

/// [`srdhm_avx2`] on 16 lanes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn srdhm_512(a: __m512i, b: __m512i) -> __m512i {
    let nudge = _mm512_set1_epi64(1 << 30);
    let even = _mm512_srli_epi64::<31>(_mm512_add_epi64(_mm512_mul_epi32(a, b), nudge));
    let a_odd = _mm512_srli_epi64::<32>(a);
    let b_odd = _mm512_srli_epi64::<32>(b);
    let odd = _mm512_slli_epi64::<1>(_mm512_add_epi64(_mm512_mul_epi32(a_odd, b_odd), nudge));
    let r = _mm512_mask_blend_epi32(0xaaaa, even, odd);
    let min = _mm512_set1_epi32(i32::MIN);
    let sat = _mm512_cmpeq_epi32_mask(a, min) & _mm512_cmpeq_epi32_mask(b, min);
    _mm512_mask_mov_epi32(r, sat, _mm512_set1_epi32(i32::MAX))
}

/// [`rdbpot_avx2`] on 16 lanes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn rdbpot_512(x: __m512i, e: __m512i) -> __m512i {
    let one = _mm512_set1_epi32(1);
    let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, e), one);
    let rem = _mm512_and_si512(x, mask);
    let thr = _mm512_add_epi32(_mm512_srli_epi32::<1>(mask), _mm512_srli_epi32::<31>(x));
    let r = _mm512_srav_epi32(x, e);
    _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, one)
}

/// `vpdpwssd` (VNNI: `acc + a₀·b₀ + a₁·b₁` per i32 lane of i16 pairs) as one instruction.
///
/// The intrinsic `_mm512_dpwssd_epi32` is split by LLVM's x86 back end, under generic x86-64
/// tuning, into `vpmaddwd` + `vpaddd` wherever the accumulator chain looks
/// latency-critical: the release `mote` had 324 `vpmaddwd` zmm and 44 `vpdpwssd` (`objdump -d`),
/// after this 0 and 322. The split suits a latency-bound chain; the depthwise loops are
/// throughput-bound (8 independent accumulators in the four-pixel 3×3 loop), where the extra
/// `vpaddd`s cost: MobileNetV2's stride-1 depthwise layers 0.84–0.87 of their time with the
/// instruction kept, the int8 model 0.970 (`scripts/bench-ab.py`, `scripts/bench-ab-layers.py`,
/// Zen 4). `asm!` is opaque to the back end, so it stays one instruction. `-C
/// target-cpu=znver4` keeps it too, but a portable build cannot choose a CPU.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn dpwssd_512(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
    let mut acc = acc;
    // SAFETY: a register-only instruction of AVX-512 VNNI, which this function's target
    // features enable; it reads and writes only the named registers (`nomem`, `nostack`).
    unsafe {
        core::arch::asm!(
            "vpdpwssd {acc}, {a}, {b}",
            acc = inout(zmm_reg) acc,
            a = in(zmm_reg) a,
            b = in(zmm_reg) b,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    acc
}

/// Per-channel requantization constants for 16 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Requant16 {
    pub(crate) mult: __m512i,
    pub(crate) left: __m512i,
    pub(crate) right: __m512i,
    /// The folded step's constants (`Requant16::fold`), per 64-bit lane for the even (`_lo`,
    /// channel `2i`) and odd (`_hi`, channel `2i + 1`) channels, with `u = 2^(31 − left)`: the
    /// odd multipliers, the addend `u/2 + half·u`, the addend `u` for products at or above the
    /// floor `−u/2` when the right shift rounds, and the total shift `31 − left + right`.
    mult_hi: __m512i,
    add_lo: __m512i,
    add_hi: __m512i,
    up_lo: __m512i,
    up_hi: __m512i,
    shift_lo: __m512i,
    shift_hi: __m512i,
    /// The floor `−u/2` of the even lanes, for [`Requant16::rescale_splat`] (the per-channel
    /// [`Requant16::apply_simple`] has no left shift: its floor is the constant `−2^30`).
    floor: __m512i,
}

impl Requant16 {
    /// Loads `n ≤ 16` multipliers and shifts (lanes past `n` read as 0).
    ///
    /// # Safety
    /// `mult` and `shift` must be valid for reading `n` i32s.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) unsafe fn load(mult: *const i32, shift: *const i32, n: usize) -> Self {
        let k = lane_mask16(n);
        // SAFETY: masked loads touch only the first `n` lanes, which the caller guarantees.
        let (m, s) = unsafe {
            (
                _mm512_maskz_loadu_epi32(k, mult),
                _mm512_maskz_loadu_epi32(k, shift),
            )
        };
        let zero = _mm512_setzero_si512();
        Self::new(
            m,
            _mm512_max_epi32(s, zero),
            _mm512_max_epi32(_mm512_sub_epi32(zero, s), zero),
        )
    }

    /// From per-lane multipliers and right shifts in `[0, 31]` (no left shift).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn from_right_shifts(mult: __m512i, right: __m512i) -> Self {
        Self::new(mult, _mm512_setzero_si512(), right)
    }

    /// The same multiplier on every lane, a left shift applied before it (`left` in `[0, 30]`)
    /// and a right shift after it (`right` in `[0, 31]`): the rescaling of an Add/Sub input,
    /// `multiply_by_quantized_multiplier(x << left, mult, −right)`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn splat_shifts(mult: i32, left: i32, right: i32) -> Self {
        Self::new(
            _mm512_set1_epi32(mult),
            _mm512_set1_epi32(left),
            _mm512_set1_epi32(right),
        )
    }

    /// From per-lane multipliers and left and right shifts (`right` in `[0, 31]`; the folded
    /// constants of [`Requant16::fold`] need `left ≤ 30`).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    fn new(mult: __m512i, left: __m512i, right: __m512i) -> Self {
        let low32 = _mm512_set1_epi64(0xffff_ffff);
        let one = _mm512_set1_epi64(1);
        // Per 64-bit lane, left shift `l` and right shift `e`: `u = 2^(31 − l)`,
        // `half = (2^e − 1) >> 1`, `up = [e ≥ 1]·u`.
        let consts = |l: __m512i, e: __m512i| {
            let ul = _mm512_sub_epi64(_mm512_set1_epi64(31), l);
            let u = _mm512_sllv_epi64(one, ul);
            let half = _mm512_srli_epi64::<1>(_mm512_sub_epi64(_mm512_sllv_epi64(one, e), one));
            let add = _mm512_add_epi64(_mm512_srli_epi64::<1>(u), _mm512_sllv_epi64(half, ul));
            let up = _mm512_sllv_epi64(_mm512_min_epu64(e, one), ul);
            let floor = _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_srli_epi64::<1>(u));
            (add, up, floor, _mm512_add_epi64(ul, e))
        };
        let (add_lo, up_lo, floor, shift_lo) = consts(
            _mm512_and_si512(left, low32),
            _mm512_and_si512(right, low32),
        );
        let (add_hi, up_hi, _, shift_hi) = consts(
            _mm512_srli_epi64::<32>(left),
            _mm512_srli_epi64::<32>(right),
        );
        Requant16 {
            mult,
            left,
            right,
            mult_hi: _mm512_srli_epi64::<32>(mult),
            add_lo,
            add_hi,
            up_lo,
            up_hi,
            shift_lo,
            shift_hi,
            floor,
        }
    }

    /// The same multiplier and shift on every lane (shift in `[-31, 30]`).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn splat(mult: i32, shift: i32) -> Self {
        Self::new(
            _mm512_set1_epi32(mult),
            _mm512_set1_epi32(shift.max(0)),
            _mm512_set1_epi32((-shift).max(0)),
        )
    }

    /// `multiply_by_quantized_multiplier(acc, mult, shift, Double)` per lane, and the mask of
    /// lanes whose left shift overflowed (wrong, to be recomputed by the scalar function).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn mbqm(&self, acc: __m512i) -> (__m512i, u16) {
        let xs = _mm512_sllv_epi32(acc, self.left);
        let ovf = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(xs, self.left), acc);
        (rdbpot_512(srdhm_512(xs, self.mult), self.right), ovf)
    }

    /// See [`Requant8::apply`]; the overflow mask has one bit per lane.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn apply(&self, acc: __m512i, st: &OutputStage) -> (__m512i, u16) {
        let (v, ovf) = self.mbqm(acc);
        let v = _mm512_max_epi32(v, _mm512_set1_epi32(st.lo));
        let v = _mm512_min_epi32(v, _mm512_set1_epi32(st.hi));
        (_mm512_add_epi32(v, _mm512_set1_epi32(st.off)), ovf)
    }
}

impl Requant16 {
    /// [`Requant16::fold`] for constants built by [`Requant16::splat`] or
    /// [`Requant16::splat_shifts`] (the same on every lane): only the even lanes' constants are
    /// read, so a loop of several rescalings keeps half as many vectors live (the Add/Sub loop
    /// has three; reading the odd lanes' constants too measured ResNeXt-29 int8 about 2 %
    /// slower, `scripts/bench-ab.py`).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn rescale_splat(&self, x: __m512i) -> __m512i {
        self.fold::<true>(x, self.floor)
    }

    /// `multiply_by_quantized_multiplier` with double rounding per lane,
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left, mult), right)`, both
    /// roundings folded into one 64-bit step: exact when `x · 2^left` fits in 32 bits and the
    /// doubling multiply cannot saturate (its operands are not both `i32::MIN`). With
    /// `p = x · mult`, `u = 2^(31 − left)` and `e = right`, the reference computes
    /// `t = ⌊(p·2^left + 2^30) / 2^31⌋ = ⌊(p + u/2) / u⌋`, then `⌊(t + half + [e ≥ 1 ∧ t ≥ 0]) /
    /// 2^e⌋` (`half = (2^e − 1) >> 1`: round half away from zero); since `⌊(⌊a / b⌋ + c) / d⌋ =
    /// ⌊(a + c·b) / (b·d)⌋` for integer `c`, and `t ≥ 0` exactly when `p ≥ −u/2`, that is
    /// `(p + u/2 + half·u + [e ≥ 1 ∧ p ≥ −u/2]·u) >> (31 − left + e)`, which stays below 2^63
    /// in magnitude (`|p| ≤ 2^62`, the addends below `2^61 + 2^31`).
    ///
    /// `floor` is `−u/2`, one value for all lanes: every caller's lanes share one left shift
    /// (none for the per-channel output stage, the Add/Sub inputs' one for the splat form).
    /// With `SPLAT` the even lanes' constants serve the odd lanes too.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    fn fold<const SPLAT: bool>(&self, x: __m512i, floor: __m512i) -> __m512i {
        let lane = |p: __m512i, add: __m512i, up: __m512i, floor: __m512i, shift: __m512i| {
            let t = _mm512_add_epi64(p, add);
            let t = _mm512_mask_add_epi64(t, _mm512_cmpge_epi64_mask(p, floor), t, up);
            _mm512_srav_epi64(t, shift)
        };
        let lo = lane(
            _mm512_mul_epi32(x, self.mult),
            self.add_lo,
            self.up_lo,
            floor,
            self.shift_lo,
        );
        let hi = if SPLAT {
            lane(
                _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.mult),
                self.add_lo,
                self.up_lo,
                floor,
                self.shift_lo,
            )
        } else {
            lane(
                _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.mult_hi),
                self.add_hi,
                self.up_hi,
                floor,
                self.shift_hi,
            )
        };
        // Odd channels: the low dword of each `hi` lane, moved up (dwords swapped in pairs).
        _mm512_mask_shuffle_epi32(lo, 0xaaaa, hi, _MM_PERM_CDAB)
    }

    /// [`Requant16::apply`] for calls where no shift is positive and no multiplier is
    /// `i32::MIN` (checked once per call with [`simple_requant`]): then the left shift is 0,
    /// `SaturatingRoundingDoublingHighMul` never saturates, and the folded step
    /// ([`Requant16::fold`]) is exact. Same results as `apply` on such inputs.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn apply_simple(&self, acc: __m512i, st: &OutputStage) -> __m512i {
        // Left shift 0: the floor `−2^(31 − 0)/2` of every lane.
        let floor = _mm512_set1_epi64(-(1 << 30));
        let v = self.fold::<false>(acc, floor);
        let v = _mm512_max_epi32(v, _mm512_set1_epi32(st.lo));
        let v = _mm512_min_epi32(v, _mm512_set1_epi32(st.hi));
        _mm512_add_epi32(v, _mm512_set1_epi32(st.off))
    }

    /// [`Requant16::apply_simple`] for calls where [`offset_folds`] holds, with constants built
    /// by [`Requant16::with_output_offset`]: the lanes' saturating narrowing to i8 (`vpmovsdb`,
    /// or `vpackssdw` then `vpacksswb`/`vpmovswb`) is the output. Three vector operations fewer
    /// per 16 outputs than `apply_simple` (no clamp, no offset): in MobileNetV2 int8 that stage
    /// costs as much as the multiplies in its 16–24-deep expansions and its depthwise layers.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn apply_folded(&self, acc: __m512i) -> __m512i {
        self.fold::<false>(acc, _mm512_set1_epi64(-(1 << 30)))
    }

    /// These constants with `off` added to every result of [`Requant16::fold`]: `off · 2^shift`
    /// joins the rounding addends, since `⌊(t + off·2^s) / 2^s⌋ = ⌊t / 2^s⌋ + off`. Only for
    /// calls where [`offset_folds`] holds (the sum then stays inside 64 bits).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    #[inline]
    pub(crate) fn with_output_offset(mut self, off: i32) -> Self {
        let o = _mm512_set1_epi64(i64::from(off));
        self.add_lo = _mm512_add_epi64(self.add_lo, _mm512_sllv_epi64(o, self.shift_lo));
        self.add_hi = _mm512_add_epi64(self.add_hi, _mm512_sllv_epi64(o, self.shift_hi));
        self
    }
}

/// [`Rounding::Float`](crate::quant::Rounding::Float)'s output stage on 16 lanes, its first
/// half: `rne(min(f32(acc) · scale, hi))` (`vcvtdq2ps`, `vmulps`, `vminps`, `vcvtps2dq` rounding
/// to nearest even whatever MXCSR says), XNNPACK's and MLAS's sequence less the lower clamp and
/// the output offset. Those two are applied after narrowing, to two and four vectors at once:
/// the offset in saturating i16 ([`float_offset_512`]), the lower bound in i8
/// ([`float_floor_512`]); two vector operations fewer per 16 outputs than clamping both sides
/// and adding the offset in i32.
///
/// Exact (equal to the scalar rule, which clamps after rounding) when
/// [`OutputStage::float_exact`] holds: the upper bound `hi` is an integer exact in f32, and
/// rounding is monotone and keeps integers, so clamping before it changes nothing, and it keeps
/// the product below 2^31 (no conversion overflows upwards). A product below −2^31 converts
/// to `i32::MIN`, which every later step keeps far below −128: the result is the lower bound,
/// as the scalar rule's.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn float_round_512(acc: __m512i, scale: __m512, st: &OutputStage) -> __m512i {
    let y = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    let y = _mm512_min_ps(y, _mm512_set1_ps(st.hi as f32));
    _mm512_cvt_roundps_epi32::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(y)
}

/// Two [`float_round_512`] results narrowed to i16 (`vpackssdw`, 128-bit lane order) with the
/// output offset added, both saturating. Exact for the lanes that matter: a rounded value `r ≤
/// hi` inside i16 gives `r + off ≤ act_max` or a sum saturating at −32768; one below i16
/// saturates to −32768 first and stays below −128 after the offset (`|off| ≤ 2^14`,
/// [`OutputStage::float_exact`]): in both cases the i8 narrowing and [`float_floor_512`] give
/// the lower bound, as the scalar rule does.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn float_offset_512(r0: __m512i, r1: __m512i, st: &OutputStage) -> __m512i {
    _mm512_adds_epi16(_mm512_packs_epi32(r0, r1), _mm512_set1_epi16(st.off as i16))
}

/// The lower clamp of the float stage on narrowed i8 lanes: `max(b, act_min)` (the upper one
/// came before the rounding, [`float_round_512`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
pub(crate) fn float_floor_512(b: __m512i, st: &OutputStage) -> __m512i {
    _mm512_max_epi8(b, _mm512_set1_epi8((st.lo + st.off) as i8))
}

/// [`Rounding::Float`](crate::quant::Rounding::Float)'s whole output stage on 8 lanes with AVX2,
/// in i32 (for the GEMM's rare single-vector path): [`float_round_avx2`], then the lower bound
/// and the output offset (`rne(clamp(f32(acc) · scale, lo, hi)) + off`; exact with
/// [`OutputStage::float_exact`]).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn requant_float_avx2(acc: __m256i, scale: __m256, st: &OutputStage) -> __m256i {
    let r = _mm256_max_epi32(float_round_avx2(acc, scale, st), _mm256_set1_epi32(st.lo));
    _mm256_add_epi32(r, _mm256_set1_epi32(st.off))
}

/// [`float_round_512`] on 8 lanes with AVX2: the first half of the output stage, the output
/// offset and the lower bound left to [`float_pack_16_avx2`] (or [`requant_float_avx2`]). The
/// rounding to nearest even is `vroundps` (immediate mode, whatever MXCSR says), then an exact
/// truncating conversion.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn float_round_avx2(acc: __m256i, scale: __m256, st: &OutputStage) -> __m256i {
    let y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
    let y = _mm256_min_ps(y, _mm256_set1_ps(st.hi as f32));
    _mm256_cvttps_epi32(_mm256_round_ps::<
        { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
    >(y))
}

/// [`pack_16_avx2`] for two [`float_round_avx2`] results: the offset added in saturating i16
/// and the lower bound applied in i8 on the way, as [`float_offset_512`] and
/// [`float_floor_512`] (exact for the same reasons; `vcvttps2dq` also gives `i32::MIN` below
/// −2^31).
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) fn float_pack_16_avx2(a: __m256i, b: __m256i, st: &OutputStage) -> __m128i {
    let w = _mm256_adds_epi16(_mm256_packs_epi32(a, b), _mm256_set1_epi16(st.off as i16));
    let bytes = _mm256_max_epi8(
        _mm256_packs_epi16(w, w),
        _mm256_set1_epi8((st.lo + st.off) as i8),
    );
    let order = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
    _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order))
}

/// Whether [`Requant16::apply_folded`] serves a call of [`simple_requant`] parameters: every
/// right shift in `[1, 21]`, the output offset in `[-255, 255]` and no activation clamp inside
/// i8 (`act_min = −128`, `act_max = 127`, as for ReLU and ReLU6 outputs whose range is the
/// quantized range).
///
/// `|off| · 2^(31 + 21) < 2^60` keeps the folded 64-bit sum below 2^63 (`|p| ≤ 2^62`, the
/// rounding addends below `2^61 + 2^32`), and a right shift of at least 1 keeps the rounded
/// value within `±(2^30 + 1)`, so adding the offset cannot leave 32 bits; the saturating
/// narrowing is then the reference's clamp to `[-128, 127]`.
pub(crate) fn offset_folds(st: &OutputStage, shifts: &[i32]) -> bool {
    (-255..=255).contains(&st.off)
        && st.lo + st.off == -128
        && st.hi + st.off == 127
        && shifts_within(shifts, -21, -1)
}

/// The smallest and largest shift of a call (`None` for none). One pass without an early exit,
/// which the compiler vectorises: these checks run on every call (per-channel shifts of up to
/// a few thousand channels), where `all` and `contains` scanned element by element (1–2 % of
/// VWW's int8 inference in `perf`).
fn shift_range(shifts: &[i32]) -> Option<(i32, i32)> {
    let (lo, hi) = shifts
        .iter()
        .fold((i32::MAX, i32::MIN), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    (lo <= hi).then_some((lo, hi))
}

/// Whether `multipliers` holds `i32::MIN` (one pass without an early exit: see [`shift_range`]).
fn has_min_multiplier(multipliers: &[i32]) -> bool {
    multipliers.iter().fold(false, |f, &m| f | (m == i32::MIN))
}

/// Whether every shift lies in `[lo, hi]` (true for none; see [`shift_range`]).
fn shifts_within(shifts: &[i32], lo: i32, hi: i32) -> bool {
    shift_range(shifts).is_none_or(|(a, b)| a >= lo && b <= hi)
}

/// Whether [`Requant16::apply_simple`] is exact for a call: every shift in `[-31, 0]` and no
/// multiplier equal to `i32::MIN`.
pub(crate) fn simple_requant(multipliers: &[i32], shifts: &[i32]) -> bool {
    shifts_within(shifts, -31, 0) && !has_min_multiplier(multipliers)
}

/// The mask of lanes `0..n` (all 16 for `n ≥ 16`).
#[inline]
pub(crate) fn lane_mask16(n: usize) -> u16 {
    if n >= 16 {
        u16::MAX
    } else {
        ((1u32 << n) - 1) as u16
    }
}

/// The mask of bytes `0..n` (all 64 for `n ≥ 64`).
#[inline]
pub(crate) fn byte_mask64(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::ops::test_util::Rng;
    use crate::quant::{multiply_by_quantized_multiplier, Rounding};

    fn scalar(x: i32, m: i32, s: i32, st: &OutputStage) -> i32 {
        let v = multiply_by_quantized_multiplier(x, m, s, Rounding::Double);
        i32::from(
            v.saturating_add(st.off)
                .max(st.lo + st.off)
                .min(st.hi + st.off)
                .clamp(-128, 127) as i8,
        )
    }

    /// Edge values of x and multipliers, every shift in range, several output stages.
    fn cases() -> Vec<(i32, i32, i32)> {
        let xs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            1 << 15,
            -(1 << 15),
            (1 << 20) + 1,
            -(1 << 20) - 1,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
            -(1 << 30),
            12345,
            -98765,
        ];
        let ms = [
            0,
            1,
            -1,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30),
            1_518_500_250,
        ];
        let mut rng = Rng::new(7);
        let mut v = Vec::new();
        // Under Miri (which emulates each intrinsic) a spread of shifts: both ends, around 0.
        let shifts: Vec<i32> = if cfg!(miri) {
            std::vec![-31, -17, -1, 0, 1, 16, 30]
        } else {
            (-31..=30).collect()
        };
        for s in shifts {
            for &x in &xs {
                for &m in &ms {
                    v.push((x, m, s));
                }
            }
            for _ in 0..crate::ops::test_util::iterations(400) {
                let x = (rng.next_u64() as i32) >> (rng.below(32) as u32);
                let m = rng.next_u64() as i32;
                v.push((x, m, s));
            }
        }
        v
    }

    const STAGES: [(i32, i32, i32); 4] = [
        (0, -128, 127),
        (-128, -128, 127),
        (127, 0, 6),
        (1 << 30, -5, 100),
    ];

    #[test]
    fn avx2_requant_matches_scalar() {
        if !Isa::Avx2.supported_by_host() {
            std::println!("skipped: host lacks avx2");
            return;
        }
        for &(off, lo, hi) in &STAGES {
            let st = OutputStage::new(off, lo, hi);
            assert!(st.is_some(), "stage {off} {lo} {hi}");
            let Some(st) = st else { return };
            for chunk in cases().chunks(8) {
                let mut x = [0i32; 8];
                let mut m = [0i32; 8];
                let mut s = [0i32; 8];
                for (i, &(a, b, c)) in chunk.iter().enumerate() {
                    (x[i], m[i], s[i]) = (a, b, c);
                }
                // SAFETY: avx2 detected above; the arrays hold 8 lanes.
                let (out, ovf) = unsafe {
                    let r = Requant8::load(m.as_ptr(), s.as_ptr(), 8);
                    let (v, ovf) = r.apply(_mm256_loadu_si256(x.as_ptr().cast()), &st);
                    let mut o = [0i32; 8];
                    _mm256_storeu_si256(o.as_mut_ptr().cast(), v);
                    (o, ovf)
                };
                for i in 0..chunk.len() {
                    let overflow = s[i] > 0 && (i64::from(x[i]) << s[i]) != i64::from(x[i] << s[i]);
                    assert_eq!(ovf >> i & 1 == 1, overflow, "ovf x={} s={}", x[i], s[i]);
                    if !overflow {
                        assert_eq!(
                            out[i],
                            scalar(x[i], m[i], s[i], &st),
                            "x={} m={} s={}",
                            x[i],
                            m[i],
                            s[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn avx2_simple_requant_matches_scalar() {
        if !Isa::Avx2.supported_by_host() {
            std::println!("skipped: host lacks avx2");
            return;
        }
        // The edge values and random accumulators of `cases()` with the parameters the simple
        // form is for: shifts in [-31, 0], multipliers other than i32::MIN.
        let simple: Vec<(i32, i32, i32)> = cases()
            .into_iter()
            .filter(|&(_, m, s)| s <= 0 && m != i32::MIN)
            .collect();
        for &(off, lo, hi) in &STAGES {
            let st = OutputStage::new(off, lo, hi);
            assert!(st.is_some(), "stage {off} {lo} {hi}");
            let Some(st) = st else { return };
            for chunk in simple.chunks(8) {
                let mut x = [0i32; 8];
                let mut m = [0i32; 8];
                let mut s = [0i32; 8];
                for (i, &(a, b, c)) in chunk.iter().enumerate() {
                    (x[i], m[i], s[i]) = (a, b, c);
                }
                // SAFETY: avx2 detected above; the arrays hold 8 lanes.
                let out = unsafe {
                    let r = Requant8Simple::load(m.as_ptr(), s.as_ptr(), chunk.len());
                    let v = r.apply(_mm256_loadu_si256(x.as_ptr().cast()), &st);
                    let mut o = [0i32; 8];
                    _mm256_storeu_si256(o.as_mut_ptr().cast(), v);
                    o
                };
                for i in 0..chunk.len() {
                    assert_eq!(
                        out[i],
                        scalar(x[i], m[i], s[i], &st),
                        "x={} m={} s={}",
                        x[i],
                        m[i],
                        s[i]
                    );
                }
            }
        }
    }

    #[test]
    fn avx512_simple_requant_matches_scalar_on_random_and_tie_values() {
        if !Isa::Avx512Vnni.supported_by_host() {
            std::println!("skipped: host lacks avx512 vnni");
            return;
        }
        // The folded rounding of `apply_simple` against the scalar reference: random
        // accumulators over the whole range, small and tiny ones, and accumulators whose product
        // lands on or next to a tie of either rounding step.
        let mut rng = Rng::new(11);
        let rounds = if cfg!(miri) { 4 } else { 20_000 };
        let mut folded_rounds = 0;
        for round in 0..rounds {
            // Every other cycle through the stages, shifts as trained models have them (1 to 21
            // to the right): the output offset folded into the rounding addend where the stage
            // allows (offsets 0 and −128 with the full clamp).
            let typical_shifts = (round / STAGES.len()) % 2 == 1;
            let (off, lo, hi) = STAGES[round % STAGES.len()];
            let st = OutputStage::new(off, lo, hi);
            assert!(st.is_some(), "stage {off} {lo} {hi}");
            let Some(st) = st else { return };
            let mut x = [0i32; 16];
            let mut m = [0i32; 16];
            let mut s = [0i32; 16];
            for l in 0..16 {
                m[l] = match rng.below(4) {
                    0 => rng.next_u64() as i32,
                    _ => (1 << 30) + rng.below(1 << 30) as i32,
                };
                if m[l] == i32::MIN {
                    m[l] = i32::MAX;
                }
                s[l] = if typical_shifts {
                    -1 - rng.below(21) as i32
                } else {
                    -(rng.below(32) as i32)
                };
                x[l] = match rng.below(5) {
                    0 => rng.next_u64() as i32,
                    1 => rng.below(1 << 16) as i32 - (1 << 15),
                    2 => rng.below(9) as i32 - 4,
                    _ => {
                        // Near `x·m = (k + 1/2)·2^(31+e)` or `(k + 1/2)·2^31`, with `|k|` small
                        // enough that the target stays below 2^62.
                        let e = -s[l] + rng.below(2) as i32 * s[l];
                        let bits = (31 - e).clamp(0, 12) as u32;
                        let k = rng.below(1 << bits) as i64 - (1i64 << bits >> 1);
                        let target = (k * 2 + 1) << (30 + e);
                        let q = target / i64::from(m[l].max(1));
                        (q + rng.below(3) as i64 - 1).clamp(i32::MIN.into(), i32::MAX.into()) as i32
                    }
                };
            }
            let folds = offset_folds(&st, &s);
            folded_rounds += usize::from(folds);
            // SAFETY: avx512 vnni detected above; the arrays hold 16 lanes.
            let got = unsafe {
                let r = Requant16::load(m.as_ptr(), s.as_ptr(), 16);
                let acc = _mm512_loadu_si512(x.as_ptr().cast());
                let v = if folds {
                    // The callers' saturating narrowing.
                    let v = r.with_output_offset(st.off).apply_folded(acc);
                    _mm512_min_epi32(
                        _mm512_max_epi32(v, _mm512_set1_epi32(-128)),
                        _mm512_set1_epi32(127),
                    )
                } else {
                    r.apply_simple(acc, &st)
                };
                let mut o = [0i32; 16];
                _mm512_storeu_si512(o.as_mut_ptr().cast(), v);
                o
            };
            for l in 0..16 {
                assert_eq!(
                    got[l],
                    scalar(x[l], m[l], s[l], &st),
                    "x={} m={} s={}",
                    x[l],
                    m[l],
                    s[l]
                );
            }
        }
        // Half the rounds have typical shifts, and two of the four stages fold.
        assert!(
            folded_rounds >= rounds / 5,
            "folded in {folded_rounds} of {rounds} rounds"
        );
    }

    #[test]
    fn avx512_requant_matches_scalar() {
        if !Isa::Avx512Vnni.supported_by_host() {
            std::println!("skipped: host lacks avx512 vnni");
            return;
        }
        for &(off, lo, hi) in &STAGES {
            let st = OutputStage::new(off, lo, hi);
            assert!(st.is_some(), "stage {off} {lo} {hi}");
            let Some(st) = st else { return };
            for chunk in cases().chunks(16) {
                let mut x = [0i32; 16];
                let mut m = [0i32; 16];
                let mut s = [0i32; 16];
                for (i, &(a, b, c)) in chunk.iter().enumerate() {
                    (x[i], m[i], s[i]) = (a, b, c);
                }
                // SAFETY: avx512 vnni detected above; the arrays hold 16 lanes.
                let (out, ovf) = unsafe {
                    let r = Requant16::load(m.as_ptr(), s.as_ptr(), 16);
                    let (v, ovf) = r.apply(_mm512_loadu_si512(x.as_ptr().cast()), &st);
                    let mut o = [0i32; 16];
                    _mm512_storeu_si512(o.as_mut_ptr().cast(), v);
                    (o, ovf)
                };
                for i in 0..chunk.len() {
                    let overflow = s[i] > 0 && (i64::from(x[i]) << s[i]) != i64::from(x[i] << s[i]);
                    assert_eq!(ovf >> i & 1 == 1, overflow, "ovf x={} s={}", x[i], s[i]);
                    if !overflow {
                        assert_eq!(
                            out[i],
                            scalar(x[i], m[i], s[i], &st),
                            "x={} m={} s={}",
                            x[i],
                            m[i],
                            s[i]
                        );
                    }
                }
                // The simple form on the lanes it covers.
                let mut m2 = m;
                let mut s2 = s;
                for i in 0..16 {
                    if m2[i] == i32::MIN {
                        m2[i] = i32::MAX;
                    }
                    s2[i] = s2[i].min(0);
                }
                assert!(simple_requant(&m2, &s2));
                // SAFETY: avx512 vnni detected above; the arrays hold 16 lanes.
                let simple = unsafe {
                    let r = Requant16::load(m2.as_ptr(), s2.as_ptr(), 16);
                    let v = r.apply_simple(_mm512_loadu_si512(x.as_ptr().cast()), &st);
                    let mut o = [0i32; 16];
                    _mm512_storeu_si512(o.as_mut_ptr().cast(), v);
                    o
                };
                for i in 0..chunk.len() {
                    assert_eq!(
                        simple[i],
                        scalar(x[i], m2[i], s2[i], &st),
                        "simple x={} m={} s={}",
                        x[i],
                        m2[i],
                        s2[i]
                    );
                }
            }
        }
    }
}
