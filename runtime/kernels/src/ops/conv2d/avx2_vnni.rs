//! int8 convolution with AVX2 and AVX-VNNI (the VEX-encoded `vpdpbusd` on 256-bit vectors of
//! Intel's client cores without AVX-512: Alder Lake, Raptor Lake, Meteor Lake, Arrow Lake, and
//! the Sierra Forest E-cores): `conv2d_s8_avx2_vnni`.
//!
//! Why: without VNNI the AVX2 kernel multiplies bytes as sign-extended i16 pairs (`vpmaddwd`
//! and `vpaddd` for 2 depth values of 8 channels); `vpdpbusd` multiplies 4 unsigned by 4 signed
//! bytes and adds the sums into the 8 lanes in one instruction, exactly, for twice the depth
//! per multiply and half the instructions. Its first operand is unsigned, so each tile's rows
//! are rewritten as `x + 128` (`x XOR 0x80`, where the AVX2 kernel widens them to i16) and the
//! accumulators start at `bias + (input_offset − 128) · Σ w` (padding taps read the input zero
//! point, which adds `(zp + 128 − 128 + input_offset)·w = 0`). The weights are packed as byte
//! quads of 8 channels. Everything else — the 6-pixel × 16-channel tiles, the super-blocks,
//! the output stage, the calls covered — is `conv2d_s8_avx2`'s GEMM ([`Dot`]); depthwise and
//! 4/8-channel groups are declined (the AVX2 kernel's own paths run them).
//!
//! Tested here through its twin: this machine (and QEMU 7.2's TCG) has no AVX-VNNI, but AVX-512
//! VL + VNNI encode the same operation on 256-bit vectors (EVEX `vpdpbusd ymm`), so
//! `conv2d_s8_avx2_vnni512` ([`QuadsEvex`]; test builds, and the `twins` feature for the
//! benchmarks) runs this file's code with the other encoding and is compared with the reference
//! bit for bit. The only difference is that one instruction's encoding: `objdump -d` of the
//! release library shows `{vex} vpdpbusd` (`c4 e2 4d 50 ..`) in `gemm_vex`, inlined with the
//! whole driver (no call in the tile loop).
//!
//! On this Zen 4 (`cargo bench -p mote-kernels --features std,twins --bench kernels --
//! conv2d_s8/.*/conv2d_s8_avx2`, 2026-11-30), the twin against `conv2d_s8_avx2`: 1×1
//! 14×14×384→64 173.0 against 76.5 G MAC/s, 1×1 56×56×256→128 170.4 against 76.4, dense 3×3
//! 56×56×64→64 183.1 against 79.4, ResNet-8's 3×3 32×32×16→16 77.7 against 46.3, the first
//! 3×3 layer (3 channels, stride 2) 36.2 against 27.0, the 24-deep 1×1 52.6 against 35.6.

use core::arch::x86_64::*;

use super::avx2::{gemm, prepare, transpose8, Ctx, Dot};
use super::{Conv2dS8Params, S8Kind};
use crate::arch::x86::Avx2Vnni;

/// `conv2d_s8_avx2_vnni`: `false` (nothing written) when AVX-VNNI is unavailable or the call is
/// not a GEMM one `conv2d_s8_avx2` covers.
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(_t) = Avx2Vnni::get() else {
        return false;
    };
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    if ctx.kind() != S8Kind::Gemm {
        return false;
    }
    // SAFETY: `_t` proves AVX2, FMA and AVX-VNNI; `prepare` checked the slices and buffers.
    unsafe { gemm_vex(&ctx, output) };
    true
}

/// The GEMM with [`QuadsVex`], compiled with AVX-VNNI.
///
/// # Safety
/// As `avx2::gemm`, with AVX-VNNI.
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn gemm_vex(ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded; this function enables what `QuadsVex` needs.
    unsafe { gemm::<QuadsVex>(ctx, output) }
}

/// The test twin of [`conv2d_s8`] (see the module documentation): the same code with the
/// EVEX-encoded `vpdpbusd ymm` of AVX-512 VL + VNNI.
#[cfg(any(test, feature = "twins"))]
pub(crate) fn conv2d_s8_evex(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(_t) = crate::arch::x86::Avx512Vnni::get() else {
        return false;
    };
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    if ctx.kind() != S8Kind::Gemm {
        return false;
    }
    // SAFETY: `_t` proves AVX-512 F/BW/VL/VNNI, AVX2 and FMA; `prepare` checked the slices.
    unsafe { gemm_evex(&ctx, output) };
    true
}

/// The GEMM with [`QuadsEvex`].
///
/// # Safety
/// As `avx2::gemm`, with AVX-512 VL and VNNI.
#[cfg(any(test, feature = "twins"))]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512vnni")]
unsafe fn gemm_evex(ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded; this function enables what `QuadsEvex` needs.
    unsafe { gemm::<QuadsEvex>(ctx, output) }
}

/// Byte quads and `vpdpbusd`: VEX-encoded (AVX-VNNI) for `conv2d_s8_avx2_vnni`, EVEX-encoded
/// (AVX-512 VL + VNNI) with `EVEX` for its test twin.
struct Quads<const EVEX: bool>;

/// The kernel's multiply.
type QuadsVex = Quads<false>;

/// The twin's multiply.
#[cfg(any(test, feature = "twins"))]
type QuadsEvex = Quads<true>;

impl<const EVEX: bool> Dot for Quads<EVEX> {
    const STEP: usize = 4;
    const FLIP: i32 = 128;

    #[inline(always)]
    unsafe fn pack(src: *const i8, k: usize, n: usize, nv: usize, dst: *mut i32) -> [__m256i; 3] {
        // SAFETY: forwarded (AVX2 available: every caller is compiled with it).
        unsafe { pack_quads(src, k, n, nv, dst) }
    }

    #[inline(always)]
    unsafe fn row_run(src: *const i8, len: usize, dst: *mut u8) {
        // SAFETY: forwarded.
        unsafe { flip_run(src, len, dst) }
    }

    #[inline(always)]
    unsafe fn dense_window(
        src: *const i8,
        step: usize,
        kernel_h: usize,
        row_w: usize,
        dst: *mut u8,
    ) {
        // SAFETY: forwarded.
        unsafe { flip_dense_window(src, step, kernel_h, row_w, dst) }
    }

    #[inline(always)]
    unsafe fn mac(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
        #[cfg(any(test, feature = "twins"))]
        if EVEX {
            // SAFETY: AVX-512 VL + VNNI available (caller: `gemm_evex`).
            return unsafe { dpbusd_evex(acc, x, w) };
        }
        // SAFETY: AVX-VNNI available (caller: `gemm_vex`).
        unsafe { dpbusd_vex(acc, x, w) }
    }
}

/// `vpdpbusd ymm` (VEX, AVX-VNNI): `acc + Σ_{b<4} x[4i+b]·w[4i+b]` per lane, `x` unsigned and
/// `w` signed bytes, exact.
#[target_feature(enable = "avx2,avxvnni")]
#[inline]
fn dpbusd_vex(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_dpbusd_avx_epi32(acc, x, w)
}

/// [`dpbusd_vex`] in its EVEX encoding (AVX-512 VL + VNNI).
#[cfg(any(test, feature = "twins"))]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
#[inline]
fn dpbusd_evex(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(acc, x, w)
}

/// Packs `n ≤ 8·nv` channels (rows of `k` bytes from `src`) as `[k_pad/4][8·nv]` dwords, each
/// the 4 bytes `w[4q .. 4q + 4]` of one channel (`k_pad = k` rounded up to 4; lanes past `n`
/// and depth past `k` are 0), and returns `Σ_k w` per channel, 8 per vector.
///
/// # Safety
/// AVX2 available; `src` readable for `n · k` bytes; `dst` writable and 32-byte aligned for
/// `k_pad/4 · 8 · nv` dwords; `1 ≤ nv ≤ 3`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn pack_quads(src: *const i8, k: usize, n: usize, nv: usize, dst: *mut i32) -> [__m256i; 3] {
    let k_pad = k.next_multiple_of(4);
    let ones8 = _mm256_set1_epi8(1);
    let ones16 = _mm256_set1_epi16(1);
    // Σ of the 4 signed bytes of each dword lane (`vpmaddubsw` by ones cannot saturate).
    let quad_sums = |v: __m256i| _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, v), ones16);
    let mut sums = [_mm256_setzero_si256(); 3];
    for (j, sum) in sums.iter_mut().enumerate().take(nv) {
        let lanes = n.saturating_sub(8 * j).min(8);
        let mut kk = 0;
        // 32 depth bytes (8 quads) of 8 channels at a time.
        while kk + 32 <= k {
            let mut r = [_mm256_setzero_si256(); 8];
            for (l, v) in r.iter_mut().enumerate().take(lanes) {
                // SAFETY: bytes `kk .. kk + 32 ≤ k` of row `8j + l < n`.
                *v = unsafe { _mm256_loadu_si256(src.add((8 * j + l) * k + kk).cast()) };
            }
            for (qq, v) in transpose8(r).into_iter().enumerate() {
                *sum = _mm256_add_epi32(*sum, quad_sums(v));
                // SAFETY: quad `kk/4 + qq < k_pad/4`, vector `j < nv` (caller's buffer).
                unsafe { _mm256_store_si256(dst.add(((kk / 4 + qq) * nv + j) * 8).cast(), v) };
            }
            kk += 32;
        }
        // The rest, quad by quad.
        while kk < k_pad {
            let mut d = [0i32; 8];
            for (l, e) in d.iter_mut().enumerate().take(lanes) {
                let mut q = [0u8; 4];
                for (b, byte) in q.iter_mut().enumerate() {
                    if kk + b < k {
                        // SAFETY: byte `kk + b < k` of row `8j + l < n`.
                        *byte = unsafe { *src.add((8 * j + l) * k + kk + b) } as u8;
                    }
                }
                *e = i32::from_le_bytes(q);
            }
            // SAFETY: `d` holds 8 i32; quad `kk/4 < k_pad/4` in the caller's buffer.
            unsafe {
                let v = _mm256_loadu_si256(d.as_ptr().cast());
                *sum = _mm256_add_epi32(*sum, quad_sums(v));
                _mm256_store_si256(dst.add((kk / 4 * nv + j) * 8).cast(), v);
            }
            kk += 4;
        }
    }
    sums
}

/// Writes `len` input bytes (a multiple of 4) from `src` as `x + 128` (unsigned) to `dst`.
///
/// # Safety
/// AVX2 available; `src` readable and `dst` writable for `len` bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn flip_run(src: *const i8, len: usize, dst: *mut u8) {
    let flip = _mm256_set1_epi8(i8::MIN);
    let mut i = 0;
    // SAFETY: bytes `i .. i + 32 ≤ len` (or 16, 8, 4) of both runs (caller).
    unsafe {
        while i + 32 <= len {
            let v = _mm256_loadu_si256(src.add(i).cast());
            _mm256_storeu_si256(dst.add(i).cast(), _mm256_xor_si256(v, flip));
            i += 32;
        }
        let flip = _mm256_castsi256_si128(flip);
        if i + 16 <= len {
            let v = _mm_loadu_si128(src.add(i).cast());
            _mm_storeu_si128(dst.add(i).cast(), _mm_xor_si128(v, flip));
            i += 16;
        }
        if i + 8 <= len {
            let v = _mm_loadl_epi64(src.add(i).cast());
            _mm_storel_epi64(dst.add(i).cast(), _mm_xor_si128(v, flip));
            i += 8;
        }
        if i + 4 <= len {
            let d = src.add(i).cast::<u32>().read_unaligned();
            dst.add(i).cast::<u32>().write_unaligned(d ^ 0x8080_8080);
        }
    }
}

/// `avx2::widen_dense_window` for byte rows: each kernel row of `row_w ≤ 16` bytes is one
/// 16-byte load, flipped, stored at `dst + kh · row_w` (the next row's store overwriting the
/// excess), then 4 zero bytes cover the depth's padding (its weights are 0).
///
/// # Safety
/// AVX2 available; 16 bytes readable at `src + kh · step` for `kh < kernel_h`; `dst` writable
/// for `(kernel_h − 1) · row_w + 16` and `kernel_h · row_w + 4` bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn flip_dense_window(
    src: *const i8,
    step: usize,
    kernel_h: usize,
    row_w: usize,
    dst: *mut u8,
) {
    let flip = _mm_set1_epi8(i8::MIN);
    // SAFETY: as documented above (caller).
    unsafe {
        for kh in 0..kernel_h {
            let v = _mm_loadu_si128(src.add(kh * step).cast());
            _mm_storeu_si128(dst.add(kh * row_w).cast(), _mm_xor_si128(v, flip));
        }
        dst.add(kernel_h * row_w).cast::<u32>().write_unaligned(0);
    }
}
