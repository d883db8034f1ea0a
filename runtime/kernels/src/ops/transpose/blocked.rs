//! Layout changes as blocked 2-D transposes: `output[b][r][c] = input[b][c][r]`.
//!
//! Nearly every Transpose a compiled model runs is one of these: NCHW → NHWC at a float model's
//! input (`[1, 3, 224, 224]` → `[1, 224, 224, 3]`) and NHWC → NCHW at its outputs. The odometer
//! walk of the reference does such a permutation one strided element at a time (the output rows
//! are 3 long for an RGB input), about 2 ns per element; walking the matrix in tiles of a cache
//! line each way reads and writes whole lines and makes it several times faster. Portable code:
//! the gain is in the memory access order, not in instructions.
use super::reference::merged_axes;
use super::TransposeParams;

/// Bytes of a tile side: one cache line of the input per source row, one of the output per
/// destination row.
const TILE_BYTES: usize = 64;

/// Runs the permutation when it is a (batched) 2-D transpose; `false`, having written nothing,
/// otherwise or when the slice lengths do not match the shape.
pub(super) fn transpose_2d<T: Copy>(p: &TransposeParams, input: &[T], output: &mut [T]) -> bool {
    let (n, dims, strides) = merged_axes(p);
    // Output axes (batch?, rows, cols): rows contiguous in the input (stride 1), cols a stride of
    // `rows`, the batch (if any) a stride of one whole matrix.
    let (batch, rows, cols) = match n {
        2 if strides[0] == 1 && strides[1] == dims[0] as isize => (1, dims[0], dims[1]),
        3 if strides[1] == 1
            && strides[2] == dims[1] as isize
            && strides[0] == dims[1].saturating_mul(dims[2]) as isize =>
        {
            (dims[0], dims[1], dims[2])
        }
        _ => return false,
    };
    let matrix = rows.saturating_mul(cols);
    if matrix == 0 || input.len() != output.len() || input.len() != batch.saturating_mul(matrix) {
        return false;
    }
    let side = (TILE_BYTES / core::mem::size_of::<T>().max(1)).max(1);
    for (src, dst) in input
        .chunks_exact(matrix)
        .zip(output.chunks_exact_mut(matrix))
    {
        // `src` is [cols][rows], `dst` is [rows][cols].
        #[cfg(target_arch = "x86_64")]
        if cols == 3 {
            if let Some((s, d)) = as_words::<T, u8>(src, dst) {
                if super::avx512::interleave3_bytes(s, d, rows) {
                    continue;
                }
            }
            if let Some((s, d)) = as_words::<T, u32>(src, dst) {
                if super::avx512::interleave3_words(s, d, rows) {
                    continue;
                }
            }
        }
        if interleave_few(src, dst, rows, cols) {
            continue;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some((s, d)) = as_words::<T, u8>(src, dst) {
            if super::avx512::transpose_bytes(s, d, rows, cols)
                || super::sse2::transpose_bytes(s, d, rows, cols)
            {
                continue;
            }
        }
        #[cfg(target_arch = "x86_64")]
        if let Some((s, d)) = as_words::<T, u32>(src, dst) {
            if super::avx512::transpose_words(s, d, rows, cols)
                || super::sse2::transpose_words(s, d, rows, cols)
            {
                continue;
            }
        }
        let mut r0 = 0;
        while r0 < rows {
            let rb = side.min(rows - r0);
            let Some(dst_rows) = dst.get_mut(r0 * cols..(r0 + rb) * cols) else {
                return true;
            };
            let mut c0 = 0;
            while c0 < cols {
                let cb = side.min(cols - c0);
                // The tile's source columns (`rb` elements each), then its destination rows
                // written whole, each element read from its column.
                let mut column: [&[T]; TILE_BYTES] = [&[]; TILE_BYTES];
                for (j, col) in column.iter_mut().enumerate().take(cb) {
                    let at = (c0 + j) * rows + r0;
                    *col = src.get(at..at + rb).unwrap_or(&[]);
                }
                for (r, row) in dst_rows.chunks_exact_mut(cols).enumerate() {
                    let Some(row) = row.get_mut(c0..c0 + cb) else {
                        break;
                    };
                    for (d, col) in row.iter_mut().zip(&column) {
                        if let Some(&x) = col.get(r) {
                            *d = x;
                        }
                    }
                }
                c0 += cb;
            }
            r0 += rb;
        }
    }
    true
}

/// The two slices as `W` (`u8` or `u32`) when `T` has `W`'s size and alignment (int8
/// activations, f32).
#[cfg(target_arch = "x86_64")]
fn as_words<'a, T: Copy, W: Copy>(
    src: &'a [T],
    dst: &'a mut [T],
) -> Option<(&'a [W], &'a mut [W])> {
    use core::mem::{align_of, size_of};
    if size_of::<T>() != size_of::<W>() || align_of::<T>() != align_of::<W>() {
        return None;
    }
    let (n, m) = (src.len(), dst.len());
    // SAFETY: `T` has the size and alignment of `W` (an integer, valid for any bits), so the
    // same memory holds as many `W`; everything written to `dst` is copied from `src`, values
    // of `T`, so `dst` keeps only valid `T` values (for `bool` too); the borrows are carried
    // over unchanged.
    #[allow(unsafe_code)]
    unsafe {
        Some((
            core::slice::from_raw_parts(src.as_ptr().cast::<W>(), n),
            core::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<W>(), m),
        ))
    }
}

/// Up to 4 columns (an image's channels: NCHW → NHWC at a model's input): the columns are
/// interleaved by zipping them, one pass over the output.
fn interleave_few<T: Copy>(src: &[T], dst: &mut [T], rows: usize, cols: usize) -> bool {
    match cols {
        1 => dst.copy_from_slice(src),
        2 => {
            let (a, b) = src.split_at(rows);
            for ((o, &a), &b) in dst.chunks_exact_mut(2).zip(a).zip(b) {
                o.copy_from_slice(&[a, b]);
            }
        }
        3 => {
            let (a, rest) = src.split_at(rows);
            let (b, c) = rest.split_at(rows);
            for (((o, &a), &b), &c) in dst.chunks_exact_mut(3).zip(a).zip(b).zip(c) {
                o.copy_from_slice(&[a, b, c]);
            }
        }
        4 => {
            let (a, rest) = src.split_at(rows);
            let (b, rest) = rest.split_at(rows);
            let (c, d) = rest.split_at(rows);
            for ((((o, &a), &b), &c), &d) in dst.chunks_exact_mut(4).zip(a).zip(b).zip(c).zip(d) {
                o.copy_from_slice(&[a, b, c, d]);
            }
        }
        _ => return false,
    }
    true
}
