//! Byte matrices (int8 activations) transposed 64 × 16 at a time with AVX-512: the SSE2 network
//! of 16 × 16 blocks ([`super::sse2`]) runs unchanged on zmm registers, where each 128-bit lane
//! is an independent 16 × 16 block. So 16 loads of whole source lines (64 bytes of a source row)
//! and the same 64 unpacks transpose four blocks at once, and each result register holds one
//! destination row of each block, stored lane by lane. Per 1 KiB: 16 loads, 64 unpacks, 64
//! stores, against 64, 256 and 64 with SSE2, whose 16-byte source reads also used a quarter of
//! each line they touched. Rows past the last whole 64 go to the SSE2 code.
//!
//! 4-byte matrices (f32) go 16 × 16 at a time, whole lines both ways: 16 loads, 64 shuffles
//! (two rounds of unpacks within 128-bit lanes, two of 128-bit lane shuffles), 16 stores; SSE2
//! needs 64 loads, 128 unpacks and 64 stores of quarter lines for the same kilobyte.

use core::arch::x86_64::*;

use crate::arch::x86::Avx512Vnni;

/// `dst[r][c] = src[c][r]` for `src` = `[cols][rows]`, `dst` = `[rows][cols]`; `false` (nothing
/// written) without AVX-512 or when the lengths are not `rows · cols`.
pub(super) fn transpose_bytes(src: &[u8], dst: &mut [u8], rows: usize, cols: usize) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let done = blocks::<u8, 64, 16>(src, dst, rows, cols, |s, ss, d, ds| {
        // SAFETY: `tok` proves AVX-512 BW; `blocks` passes whole blocks inside the slices.
        unsafe { block64x16(tok, s, ss, d, ds) }
    });
    done.is_some_and(|rows64| super::sse2::transpose_bytes_from(src, dst, rows, cols, rows64))
}

/// The whole `R × C` blocks of a transpose (`R` destination rows of `C` elements), the columns
/// past the last whole block of those rows element by element; returns how many destination
/// rows are done (the rest go to the SSE2 code), `None` when the lengths are not `rows · cols`.
/// `block(src, src_stride, dst, dst_stride)` transposes one block.
fn blocks<T: Copy, const R: usize, const C: usize>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    cols: usize,
    block: impl Fn(*const T, usize, *mut T, usize),
) -> Option<usize> {
    let n = rows.saturating_mul(cols);
    if src.len() != n || dst.len() != n {
        return None;
    }
    let (rows_b, cols_b) = (rows - rows % R, cols - cols % C);
    let mut r0 = 0;
    while r0 < rows_b {
        let mut c0 = 0;
        while c0 < cols_b {
            // Source rows `c0 .. c0 + C ≤ cols` hold elements `r0 .. r0 + R ≤ rows`
            // (`src[c · rows + r]`), destination rows `r0 .. r0 + R` elements `c0 .. c0 + C`
            // (`dst[r · cols + c]`); both slices have `rows · cols` elements (checked above).
            block(
                src.as_ptr().wrapping_add(c0 * rows + r0),
                rows,
                dst.as_mut_ptr().wrapping_add(r0 * cols + c0),
                cols,
            );
            c0 += C;
        }
        for r in r0..r0 + R {
            for c in cols_b..cols {
                if let (Some(d), Some(&s)) = (dst.get_mut(r * cols + c), src.get(c * rows + r)) {
                    *d = s;
                }
            }
        }
        r0 += R;
    }
    Some(rows_b)
}

/// 64 destination rows of 16 bytes from 16 source rows of 64 bytes: four 16 × 16 blocks, one
/// per 128-bit lane.
///
/// # Safety
/// AVX-512 BW (`_t`); `src + i · src_stride` readable for 64 bytes for `i < 16`,
/// `dst + j · dst_stride` writable for 16 bytes for `j < 64`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[inline]
unsafe fn block64x16(
    _t: Avx512Vnni,
    src: *const u8,
    src_stride: usize,
    dst: *mut u8,
    dst_stride: usize,
) {
    // As `sse2::block16`: source row `bitrev(i)` in slot `i`, four rounds pairing slots `i` and
    // `i + 8`; after them slot `j`, lane `q` holds destination row `16q + j`.
    const BITREV4: [usize; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
    let mut v = [_mm512_setzero_si512(); 16];
    for i in 0..16 {
        // SAFETY: source row `BITREV4[i] < 16` of the block (caller).
        v[i] = unsafe { _mm512_loadu_si512(src.add(BITREV4[i] * src_stride).cast()) };
    }
    macro_rules! round {
        ($v:expr, $lo:ident, $hi:ident) => {{
            let mut o = [_mm512_setzero_si512(); 16];
            for i in 0..8 {
                o[2 * i] = $lo($v[i], $v[i + 8]);
                o[2 * i + 1] = $hi($v[i], $v[i + 8]);
            }
            o
        }};
    }
    let v = round!(v, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8);
    let v = round!(v, _mm512_unpacklo_epi16, _mm512_unpackhi_epi16);
    let v = round!(v, _mm512_unpacklo_epi32, _mm512_unpackhi_epi32);
    let v = round!(v, _mm512_unpacklo_epi64, _mm512_unpackhi_epi64);
    for (j, x) in v.iter().enumerate() {
        // SAFETY: destination rows `16q + j < 64` of the block (caller).
        unsafe {
            _mm_storeu_si128(dst.add(j * dst_stride).cast(), _mm512_castsi512_si128(*x));
            _mm_storeu_si128(
                dst.add((16 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<1>(*x),
            );
            _mm_storeu_si128(
                dst.add((32 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<2>(*x),
            );
            _mm_storeu_si128(
                dst.add((48 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<3>(*x),
            );
        }
    }
}

/// [`transpose_bytes`] for 4-byte elements.
pub(super) fn transpose_words(src: &[u32], dst: &mut [u32], rows: usize, cols: usize) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let done = blocks::<u32, 16, 16>(src, dst, rows, cols, |s, ss, d, ds| {
        // SAFETY: `tok` proves AVX-512 F; `blocks` passes whole blocks inside the slices.
        unsafe { block16x16_words(tok, s, ss, d, ds) }
    });
    done.is_some_and(|rows16| super::sse2::transpose_words_from(src, dst, rows, cols, rows16))
}

/// One 16 × 16 block of 4-byte elements (strides in elements).
///
/// # Safety
/// AVX-512 F (`_t`); `src + i · src_stride` readable and `dst + i · dst_stride` writable for
/// 16 elements, `i < 16`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[inline]
unsafe fn block16x16_words(
    _t: Avx512Vnni,
    src: *const u32,
    src_stride: usize,
    dst: *mut u32,
    dst_stride: usize,
) {
    let mut r = [_mm512_setzero_si512(); 16];
    for (i, v) in r.iter_mut().enumerate() {
        // SAFETY: source row `i < 16` of the block (caller).
        *v = unsafe { _mm512_loadu_si512(src.add(i * src_stride).cast()) };
    }
    // Within each 128-bit lane: rows 4k .. 4k + 4 become a 4 × 4 block transposed (dword then
    // qword interleaves).
    let mut t = [_mm512_setzero_si512(); 16];
    for k in 0..8 {
        t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for k in 0..4 {
        r[4 * k] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
        r[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    // Then the 4 × 4 arrangement of those blocks: lanes (0, 2) and (1, 3) of register pairs
    // four apart, then eight apart.
    for k in 0..4 {
        t[k] = _mm512_shuffle_i32x4::<0x88>(r[k], r[k + 4]);
        t[k + 4] = _mm512_shuffle_i32x4::<0xdd>(r[k], r[k + 4]);
        t[k + 8] = _mm512_shuffle_i32x4::<0x88>(r[k + 8], r[k + 12]);
        t[k + 12] = _mm512_shuffle_i32x4::<0xdd>(r[k + 8], r[k + 12]);
    }
    for k in 0..8 {
        r[k] = _mm512_shuffle_i32x4::<0x88>(t[k], t[k + 8]);
        r[k + 8] = _mm512_shuffle_i32x4::<0xdd>(t[k], t[k + 8]);
    }
    for (i, v) in r.iter().enumerate() {
        // SAFETY: destination row `i < 16` of the block (caller).
        unsafe { _mm512_storeu_si512(dst.add(i * dst_stride).cast(), *v) };
    }
}
