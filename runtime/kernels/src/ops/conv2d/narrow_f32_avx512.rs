//! f32 convolution with 8 or 16 output channels and a short depth on AVX-512:
//! `conv2d_f32_narrow_avx512` (VWW's first layer, 3 → 8 channels 3×3 at stride 2, and its
//! 8 → 16 1×1 layer; ResNet-8's first layer, 3 → 16).
//!
//! The GEMM tile puts output channels in the lanes: with 8 of them half of every FMA is empty,
//! and a depth of 8 to 27 leaves each 6-pixel tile more set-up than arithmetic (VWW's two
//! layers ran at 14 and 18 G MAC/s, a quarter of its f32 time, `mote bench --per-op`). Here
//! the lanes are 16 adjacent output pixels of a row and each output channel has its own
//! accumulator: per depth index `t` (tap and input channel, OHWI order) one load brings the 16
//! windows' inputs and one FMA per channel multiplies them with the channel's weight
//! broadcast. The loads are contiguous because each input row a kernel row reads is first
//! de-interleaved into `stride_w · in_c` planes (column phase and channel, padding columns 0):
//! column `stride·p + kw` of pixel `p` is entry `p + kw / stride` of plane `kw mod stride`.
//! (Masked gathers straight from the input instead measured slower than the GEMM tile, 22.6
//! against 25.8 G MAC/s on VWW's first layer, `scripts/bench-ab-layers.py`.) The
//! accumulators are transposed in registers to pixel-major order (three rounds of shuffles)
//! and stored. Padding rows are skipped (they add `0 · w`).

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dParams, S8Kind, S8Plan};
use crate::arch::x86::Avx512Vnni;
use crate::Activation;

/// Most depth (`kernel_h · kernel_w · in_c`) taken: deeper layers have enough work per
/// pixel for the GEMM tile.
const MAX_DEPTH: usize = 64;

/// `conv2d_f32_narrow_avx512`: see the module documentation. `false` (nothing written) without
/// AVX-512, for grouped layers, other output channel counts or deeper layers.
pub(crate) fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let Some(plan) = S8Plan::for_f32(p, input, weights, bias, output) else {
        return false;
    };
    if !covers(&plan) {
        return false;
    }
    // SAFETY: `tok` proves AVX-512 F/BW/VL; `S8Plan::for_f32` checked every slice length
    // against the shapes; `covers` the channel count and depth.
    unsafe {
        if pointwise16(&plan) {
            run_pointwise16(tok, &plan, input, weights, bias, output);
        } else if p.out_c == 8 {
            run::<1>(tok, &plan, input, weights, bias, output);
        } else {
            run::<2>(tok, &plan, input, weights, bias, output);
        }
    }
    if p.activation.clamp_bounds().is_none() && p.activation != Activation::None {
        p.activation.apply_slice(output);
    }
    true
}

/// The calls this kernel takes: [`pointwise16`], or one group, 8 or 16 output channels, a depth
/// of at most [`MAX_DEPTH`], `stride_w · in_c ≤ 8` (the planes of a row), rows within the
/// buffers.
pub(crate) fn covers(plan: &S8Plan) -> bool {
    let g = &plan.g;
    pointwise16(plan)
        || plan.kind == S8Kind::Gemm
            && g.groups == 1
            && matches!(g.out_c, 8 | 16)
            && plan.k_len <= MAX_DEPTH
            && g.kernel_h <= MAX_DEPTH
            && g.stride_w.saturating_mul(g.in_c) <= 8
            && g.kernel_w > 0
            && g.stride_w > 0
            && g.stride_w * plane_width(g) * g.in_c <= PADDED_ROW
            && g.kernel_h * g.stride_w * g.in_c * plane_width(g) <= PLANES
            && g.pad_left * g.in_c + g.in_w * g.in_c <= g.stride_w * plane_width(g) * g.in_c
}

/// 1×1 convolutions at stride 1 without padding, 16 output channels, depth at most
/// [`MAX_DEPTH`] ([`run_pointwise16`]).
fn pointwise16(plan: &S8Plan) -> bool {
    plan.kind == S8Kind::Gemm
        && plan.pointwise
        && plan.g.groups == 1
        && plan.g.out_c == 16
        && plan.k_len <= MAX_DEPTH
}

/// Pixels per step of [`run_pointwise16`].
const PW_ROWS: usize = 12;

/// [`pointwise16`] calls: the 16 channels are one vector, so the channels stay in the lanes,
/// and a pixel's input floats are broadcast from memory into its FMAs. Twelve pixels per step
/// keep 12 FMA chains in flight (the GEMM tile has 6 rows, too few for the FMA latency with
/// one vector per row: VWW's 8 → 16 layer ran at 32 G MAC/s on either path before, and
/// MobileNetV2's 112×112 32 → 16 one at 38).
///
/// # Safety
/// AVX-512 F/BW/VL available; `plan` validated for these slices; [`pointwise16`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn run_pointwise16(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let k = plan.k_len;
    // Weights `[t][oc]`.
    let mut wt = Aligned([[0f32; 16]; MAX_DEPTH]);
    for (t, row) in wt.0.iter_mut().enumerate().take(k) {
        for (oc, v) in row.iter_mut().enumerate() {
            *v = weights.get(oc * k + t).copied().unwrap_or(0.0);
        }
    }
    let mut b0 = [0f32; 16];
    if let Some(b) = bias {
        for (v, &x) in b0.iter_mut().zip(b) {
            *v = x;
        }
    }
    // SAFETY: 16 floats.
    let b0 = unsafe { _mm512_loadu_ps(b0.as_ptr()) };
    let bounds = g
        .activation
        .clamp_bounds()
        .map(|(l, h)| (_mm512_set1_ps(l), _mm512_set1_ps(h)));
    let pixels = g.batch * g.out_h * g.out_w;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let w = wt.0.as_ptr().cast::<f32>();
    let mut m0 = 0;
    while m0 < pixels {
        let rows = (pixels - m0).min(PW_ROWS);
        // Pixel of each row (the last again past the end, not stored).
        let src: [*const f32; PW_ROWS] =
            core::array::from_fn(|r| x.wrapping_add((m0 + r.min(rows - 1)) * k));
        let mut acc = [b0; PW_ROWS];
        for t in 0..k {
            // SAFETY: row `t < k ≤ MAX_DEPTH` of the packed weights.
            let wv = unsafe { _mm512_load_ps(w.add(16 * t)) };
            for (a, s) in acc.iter_mut().zip(src.iter()) {
                // SAFETY: float `t < in_c` of a pixel of the input.
                let xv = _mm512_set1_ps(unsafe { *s.add(t) });
                *a = _mm512_fmadd_ps(xv, wv, *a);
            }
        }
        for (r, a) in acc.iter().enumerate().take(rows) {
            let v = match bounds {
                // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                Some((l, h)) => _mm512_min_ps(_mm512_max_ps(*a, l), h),
                None => *a,
            };
            // SAFETY: the 16 channels of pixel `m0 + r < pixels`.
            unsafe { _mm512_storeu_ps(out.add((m0 + r) * 16), v) };
        }
        m0 += PW_ROWS;
    }
}

/// Floats of the de-interleaved rows: `kernel_h · stride_w · in_c` planes of [`plane_width`].
const PLANES: usize = 8 * 1024;
/// Floats of one zero-padded input row.
const PADDED_ROW: usize = 2 * 1024;

/// Floats per plane: every output pixel's column and the kernel's reach past it, in whole
/// 16-lane blocks.
fn plane_width(g: &Conv2dParams) -> usize {
    let reach = (g.kernel_w.saturating_sub(1)).saturating_mul(g.dilation_w) / g.stride_w.max(1);
    (g.out_w.next_multiple_of(16) + reach + 1).next_multiple_of(16)
}

/// `H` halves of 8 output channels (`out_c = 8·H`).
///
/// # Safety
/// AVX-512 F/BW/VL available; `plan` validated for these slices, [`covers`] holds,
/// `out_c = 8·H`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn run<const H: usize>(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let (cin, k, oc_n, s) = (g.in_c, plan.k_len, 8 * H, g.stride_w);
    // Weights `[t][oc]` (OHWI: `t = (kh·kernel_w + kw)·in_c + ci`).
    let mut wt = [[0f32; 16]; MAX_DEPTH];
    for (t, row) in wt.iter_mut().enumerate().take(k) {
        for (oc, v) in row.iter_mut().enumerate().take(oc_n) {
            *v = weights.get(oc * k + t).copied().unwrap_or(0.0);
        }
    }
    let mut b0 = [0f32; 16];
    if let Some(b) = bias {
        for (v, &x) in b0.iter_mut().zip(b) {
            *v = x;
        }
    }
    let bounds = g
        .activation
        .clamp_bounds()
        .map(|(l, h)| (_mm512_set1_ps(l), _mm512_set1_ps(h)));
    let pw = plane_width(g);
    let nplanes = s * cin;
    let mut planes_store = Aligned([MaybeUninit::<f32>::uninit(); PLANES]);
    let planes = super::avx2::init_prefix(&mut planes_store.0, g.kernel_h * nplanes * pw, 0.0);
    let mut padded_store = Aligned([MaybeUninit::<f32>::uninit(); PADDED_ROW]);
    let prow = super::avx2::init_prefix(&mut padded_store.0, s * pw * cin, 0.0);
    let split = Split::new(nplanes);
    let out = output.as_mut_ptr();
    // The input row each slot of planes holds. Consecutive rows of one image go to slots
    // `ih mod kernel_h` (dilation 1), so output rows sharing input rows split them once.
    for b in 0..g.batch {
        let mut held = [usize::MAX; MAX_DEPTH];
        for oh in 0..g.out_h {
            // Kernel row `kh`'s input row de-interleaved in slot `slot[kh]`: plane
            // `(phase, ci)` holds channel `ci` of padded columns `s·j + phase`, `j < pw`.
            let mut slot = [usize::MAX; MAX_DEPTH];
            for (kh, slot_kh) in slot.iter_mut().enumerate().take(g.kernel_h) {
                let ih = (oh * g.stride_h + kh * g.dilation_h).checked_sub(g.pad_top);
                let Some(ih) = ih.filter(|&ih| ih < g.in_h) else {
                    continue;
                };
                let sl = if g.dilation_h == 1 {
                    ih % g.kernel_h
                } else {
                    kh
                };
                *slot_kh = sl;
                if held[sl] == ih && g.dilation_h == 1 {
                    continue;
                }
                held[sl] = ih;
                let at = (b * g.in_h + ih) * g.in_w * cin;
                let src = input.get(at..at + g.in_w * cin).unwrap_or(&[]);
                super::fill_padded_row(prow, src, g.pad_left * cin, 0.0, 0.0);
                let dst = &mut planes[sl * nplanes * pw..(sl + 1) * nplanes * pw];
                // SAFETY: `prow` holds `pw / 16` blocks of `16 · nplanes` floats, `dst`
                // `nplanes` planes of `pw` floats.
                unsafe { split.run(prow.as_ptr(), pw, dst.as_mut_ptr()) };
            }
            let mut ow0 = 0;
            while ow0 < g.out_w {
                let n = (g.out_w - ow0).min(16);
                let mut acc = [_mm512_setzero_ps(); 16];
                for (oc, a) in acc.iter_mut().enumerate().take(oc_n) {
                    *a = _mm512_set1_ps(b0[oc]);
                }
                for kh in 0..g.kernel_h {
                    if slot[kh] == usize::MAX {
                        continue;
                    }
                    let slot = planes.as_ptr().wrapping_add(slot[kh] * nplanes * pw);
                    for kw in 0..g.kernel_w {
                        let col = kw * g.dilation_w;
                        let (phase, j0) = (col % s, ow0 + col / s);
                        let t0 = (kh * g.kernel_w + kw) * cin;
                        for ci in 0..cin {
                            // SAFETY: plane `(phase, ci)` of slot `kh`, floats `j0 .. j0 + 16
                            // ≤ pw` (`plane_width`).
                            let v =
                                unsafe { _mm512_loadu_ps(slot.add((phase * cin + ci) * pw + j0)) };
                            let w = &wt[t0 + ci];
                            for (oc, a) in acc.iter_mut().enumerate().take(oc_n) {
                                *a = _mm512_fmadd_ps(v, _mm512_set1_ps(w[oc]), *a);
                            }
                        }
                    }
                }
                if let Some((l, h)) = bounds {
                    for a in acc.iter_mut().take(oc_n) {
                        // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                        *a = _mm512_min_ps(_mm512_max_ps(*a, l), h);
                    }
                }
                // SAFETY: pixels `ow0 .. ow0 + n` of output row `(b, oh)`, `oc_n` floats each.
                let dst = unsafe { out.add(((b * g.out_h + oh) * g.out_w + ow0) * oc_n) };
                for half in 0..H {
                    let mut a8 = [_mm512_setzero_ps(); 8];
                    a8.copy_from_slice(&acc[8 * half..8 * half + 8]);
                    // SAFETY: as above; `store_half` writes channels `8·half ..` of `n` pixels.
                    unsafe { store_half(&a8, n, oc_n, dst.add(8 * half)) };
                }
                ow0 += 16;
            }
        }
    }
}

#[repr(C, align(64))]
struct Aligned<T>(T);

/// De-interleaves blocks of `16 · nplanes` floats (16 groups of `nplanes` consecutive values)
/// into `nplanes` runs of 16: lane `j` of plane `o` is float `nplanes·j + o` of the block, in
/// vector `e / 16` of the block (`e` that index). Pairs of the block's vectors feed one
/// `vpermt2ps` each (index `e mod 32`), and blends pick each lane's pair.
struct Split {
    nplanes: usize,
    idx: [__m512i; 8],
    /// `pair[o][m]`: the lanes of plane `o` whose float is in vectors `2m`, `2m + 1`.
    pair: [[u16; 4]; 8],
}

impl Split {
    /// `nplanes ≤ 8`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
    fn new(nplanes: usize) -> Self {
        let mut idx = [_mm512_setzero_si512(); 8];
        let mut pair = [[0u16; 4]; 8];
        for o in 0..nplanes.min(8) {
            let mut lanes = [0i32; 16];
            for (j, l) in lanes.iter_mut().enumerate() {
                let e = nplanes * j + o;
                *l = (e % 32) as i32;
                pair[o][(e / 32).min(3)] |= 1 << j;
            }
            idx[o] = _mm512_setr_epi32(
                lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5], lanes[6], lanes[7],
                lanes[8], lanes[9], lanes[10], lanes[11], lanes[12], lanes[13], lanes[14],
                lanes[15],
            );
        }
        Split { nplanes, idx, pair }
    }

    /// # Safety
    /// AVX-512 F; `src` readable for `pw · nplanes` floats (`pw` a multiple of 16), `dst`
    /// writable for `nplanes · pw`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
    unsafe fn run(&self, src: *const f32, pw: usize, dst: *mut f32) {
        let np = self.nplanes;
        let pairs = np.div_ceil(2);
        let mut blk = 0;
        while blk < pw {
            let mut z = [_mm512_setzero_ps(); 8];
            for (i, v) in z.iter_mut().enumerate().take(np) {
                // SAFETY: vector `i < nplanes` of block `blk / 16` (caller).
                *v = unsafe { _mm512_loadu_ps(src.add(blk * np + 16 * i)) };
            }
            for o in 0..np {
                let mut r = _mm512_permutex2var_ps(z[0], self.idx[o], z[1]);
                for m in 1..pairs {
                    let q = _mm512_permutex2var_ps(z[2 * m], self.idx[o], z[2 * m + 1]);
                    r = _mm512_mask_blend_ps(self.pair[o][m], r, q);
                }
                // SAFETY: floats `blk .. blk + 16 ≤ pw` of plane `o` (caller).
                unsafe { _mm512_storeu_ps(dst.add(o * pw + blk), r) };
            }
            blk += 16;
        }
    }
}

/// Stores 8 channels of 16 pixels (`a[oc]`, lane `p` pixel `p`) pixel-major: the 8 floats of
/// pixel `p < n` at `dst + p·stride`.
///
/// # Safety
/// AVX-512 F; `dst + p·stride` writable for 8 floats, `p < n ≤ 16`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn store_half(a: &[__m512; 8], n: usize, stride: usize, dst: *mut f32) {
    // Round 1: pairs of channels interleaved, per 128-bit lane `L` (pixels `4L .. 4L + 4`).
    let t: [__m512; 8] = [
        _mm512_unpacklo_ps(a[0], a[1]),
        _mm512_unpackhi_ps(a[0], a[1]),
        _mm512_unpacklo_ps(a[2], a[3]),
        _mm512_unpackhi_ps(a[2], a[3]),
        _mm512_unpacklo_ps(a[4], a[5]),
        _mm512_unpackhi_ps(a[4], a[5]),
        _mm512_unpacklo_ps(a[6], a[7]),
        _mm512_unpackhi_ps(a[6], a[7]),
    ];
    // Round 2: `u[i]` lane `L` = pixel `4L + i`, channels 0–3; `u[4 + i]` channels 4–7.
    let mut u = [_mm512_setzero_ps(); 8];
    for (half, uh) in u.chunks_exact_mut(4).enumerate() {
        let (t0, t1, t2, t3) = (
            _mm512_castps_pd(t[4 * half]),
            _mm512_castps_pd(t[4 * half + 1]),
            _mm512_castps_pd(t[4 * half + 2]),
            _mm512_castps_pd(t[4 * half + 3]),
        );
        uh[0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        uh[1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        uh[2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        uh[3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    // Round 3: `lo[i]` = lanes 0, 1 of `u[i]` and of `u[4 + i]`; `hi[i]` lanes 2, 3. (Loops,
    // not `array::from_fn`: closures do not inherit the target features.)
    let mut lo = [_mm512_setzero_ps(); 4];
    let mut hi = [_mm512_setzero_ps(); 4];
    for i in 0..4 {
        lo[i] = _mm512_shuffle_f32x4::<0x44>(u[i], u[4 + i]);
        hi[i] = _mm512_shuffle_f32x4::<0xee>(u[i], u[4 + i]);
    }
    for l in 0..4 {
        let src = if l < 2 { &lo } else { &hi };
        for i in [0, 2] {
            // Pixels `4l + i` and `4l + i + 1`: 8 channels each.
            let v = if l % 2 == 0 {
                _mm512_shuffle_f32x4::<0x88>(src[i], src[i + 1])
            } else {
                _mm512_shuffle_f32x4::<0xdd>(src[i], src[i + 1])
            };
            let p = 4 * l + i;
            // SAFETY: pixels `p`, `p + 1` when below `n` (caller).
            unsafe {
                if p < n {
                    _mm256_storeu_ps(dst.add(p * stride), _mm512_castps512_ps256(v));
                }
                if p + 1 < n {
                    _mm256_storeu_ps(
                        dst.add((p + 1) * stride),
                        _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))),
                    );
                }
            }
        }
    }
}
