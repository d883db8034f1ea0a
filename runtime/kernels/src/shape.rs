//! Fixed-capacity shapes: tensors of rank up to [`MAX_RANK`], stored inline (no heap).

/// Highest tensor rank the runtime supports. ShuffleNet's channel shuffle needs 5; 6 leaves room.
pub const MAX_RANK: usize = 6;

/// A tensor shape in physical (memory) order, row-major: the last axis is contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape {
    /// Extents; entries at `rank..` are 1.
    pub dims: [usize; MAX_RANK],
    /// Number of axes in use.
    pub rank: usize,
}

impl Shape {
    /// A shape from a slice of extents. Ranks above [`MAX_RANK`] are truncated (callers validate
    /// the rank first).
    pub fn new(dims: &[usize]) -> Self {
        let mut s = Shape {
            dims: [1; MAX_RANK],
            rank: dims.len().min(MAX_RANK),
        };
        for (d, v) in s.dims.iter_mut().zip(dims.iter()) {
            *d = *v;
        }
        s
    }

    /// The extents in use.
    pub fn as_slice(&self) -> &[usize] {
        &self.dims[..self.rank.min(MAX_RANK)]
    }

    /// Number of elements (saturating; validated shapes never saturate).
    pub fn elements(&self) -> usize {
        self.as_slice()
            .iter()
            .fold(1usize, |a, &d| a.saturating_mul(d))
    }

    /// Row-major strides in elements.
    pub fn strides(&self) -> [usize; MAX_RANK] {
        let mut st = [0usize; MAX_RANK];
        let mut acc = 1usize;
        for i in (0..self.rank.min(MAX_RANK)).rev() {
            st[i] = acc;
            acc = acc.saturating_mul(self.dims[i]);
        }
        st
    }
}
