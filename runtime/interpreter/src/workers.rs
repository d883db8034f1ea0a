//! Several cores on one layer: the interpreter cuts a convolution into bands of output rows and
//! hands them to [`Workers`] the host lends.
//!
//! Why bands of rows, and why a trait: a convolution's output rows are independent, each band's
//! input and output are contiguous slices of the arena, and each band is a convolution of its
//! own (`mote_kernels::ops::conv2d::output_row_band`), so the kernels stay single-threaded and
//! unchanged and every output pixel is computed by the same instructions as without threads.
//! The interpreter itself has no OS and no heap: it does not create threads, it only cuts the
//! work; a host with `std` lends a pool ([`crate::ThreadPool`], feature `threads`), and without
//! one (the default, and on a microcontroller) every layer runs whole on the caller's thread.

use core::ops::Range;

use mote_kernels::ops::conv2d::{output_row_band, Conv2dParams};

/// Most bands one layer is cut into.
pub const MAX_BANDS: usize = 16;

/// Fewest multiply-accumulates an int8 band is given by default ([`Workers::min_band_macs`]):
/// below this, handing a band to another thread costs more than it saves. Measured, not derived,
/// on a build whose threshold came from a temporary environment variable (`mote bench
/// resnet8_int8.mote --threads 2 --iters 10000 --warmup 200`, before the pool spun after an
/// inference): with 1 M, ResNet-8's 2.4 M-MAC layers were cut and the model ran 0.117 ms against
/// 0.094 ms on one thread; with 2 M they run whole, and MobileNetV2 still gains
/// (`docs/benchmarks.md`, "Threads").
pub const MIN_BAND_MACS_S8: usize = 1 << 21;

/// The same for f32 bands. Measured too (`scripts/bench-threads.sh -n 2 -r 5 -s 2 vww_f32.mote`
/// with 256 K): VWW's float layers (at most about 1 M MACs each) were cut and the model ran
/// 0.237 ms against 0.180 ms on one thread; with 1 M they run whole, and ResNet-8's 2.4 M-MAC
/// float layers are still cut (they gained in some processes and not in others,
/// `docs/benchmarks.md`, "Threads").
pub const MIN_BAND_MACS_F32: usize = 1 << 20;

/// One band of a layer's output rows: its own convolution geometry, the range of the layer's
/// input elements it reads, and the bytes of the layer's output it writes.
#[derive(Debug, Default)]
pub struct Band<'o> {
    pub(crate) geometry: Conv2dParams,
    pub(crate) input: Range<usize>,
    pub(crate) output: &'o mut [u8],
}

/// Runs the bands of one layer, possibly at once on several threads. Implemented by
/// [`crate::ThreadPool`] (feature `threads`) or by the host.
pub trait Workers: Sync {
    /// How many bands to cut a layer into when it has work enough (at most [`MAX_BANDS`]
    /// are used); 1 runs every layer whole.
    fn threads(&self) -> usize;
    /// Fewest multiply-accumulates worth a band of its own on these threads, for f32 layers
    /// (`float`) or int8 ones (a layer with less than twice this runs whole): what handing a band
    /// to another thread and waiting for it costs, in arithmetic. [`MIN_BAND_MACS_F32`] and
    /// [`MIN_BAND_MACS_S8`] unless the implementation knows better.
    fn min_band_macs(&self, float: bool) -> usize {
        if float {
            MIN_BAND_MACS_F32
        } else {
            MIN_BAND_MACS_S8
        }
    }
    /// An inference starts: the threads may get ready (spin) until [`Workers::end`].
    fn begin(&self) {}
    /// The inference has ended (also after an error).
    fn end(&self) {}
    /// Calls `job` once on every band, in any order and possibly concurrently, and returns when
    /// every call has returned.
    fn run(&self, bands: &mut [Band<'_>], job: &(dyn Fn(&mut Band<'_>) + Sync));
}

/// Cuts every convolution of two rows or more into this many bands (at most [`MAX_BANDS`]),
/// however little work it has, and runs them one after the other on the caller's thread: the
/// bands' arithmetic without threads, for tests (also on targets that have none).
#[derive(Clone, Copy, Debug)]
pub struct SequentialBands(pub usize);

impl Workers for SequentialBands {
    fn threads(&self) -> usize {
        self.0
    }
    fn min_band_macs(&self, _float: bool) -> usize {
        1
    }
    fn run(&self, bands: &mut [Band<'_>], job: &(dyn Fn(&mut Band<'_>) + Sync)) {
        for band in bands {
            job(band);
        }
    }
}

/// The type of the closure that runs one band of a convolution: its geometry, the range of the
/// input elements it reads, and its output bytes.
pub(crate) type ConvBand<'f> = dyn Fn(&Conv2dParams, Range<usize>, &mut [u8]) + Sync + 'f;

/// Runs convolution `g` (whose output is `out`, `elem` bytes per element) through `conv`: whole
/// when there is too little work for two bands or the geometry does not cut; otherwise in bands
/// of output rows of equal height (±1) handed to `workers`. (The interpreter calls the kernels
/// directly when it has no workers or one thread.)
pub(crate) fn convolve(
    workers: &dyn Workers,
    g: &Conv2dParams,
    elem: usize,
    out: &mut [u8],
    conv: &ConvBand<'_>,
) {
    let whole = g.batch.saturating_mul(g.in_h).saturating_mul(g.in_w);
    let whole = 0..whole.saturating_mul(g.in_c);
    let macs = g
        .out_h
        .saturating_mul(g.out_w)
        .saturating_mul(g.out_c)
        .saturating_mul(g.kernel_h)
        .saturating_mul(g.kernel_w)
        .saturating_mul(g.in_c.checked_div(g.groups).unwrap_or(0));
    let n = workers.threads().min(MAX_BANDS).min(g.out_h).min(
        macs.checked_div(workers.min_band_macs(elem == 4))
            .unwrap_or(0),
    );
    if n <= 1 {
        return conv(g, whole, out);
    }
    // Every band is planned before the output is cut, so a layer that does not cut runs whole.
    let mut plans: [(Conv2dParams, Range<usize>, usize); MAX_BANDS] = Default::default();
    let mut written = 0usize;
    for (k, plan) in plans.iter_mut().take(n).enumerate() {
        // Rows `k·out_h/n ..`: a product that saturated (impossible for a validated tensor)
        // would break the bands' contiguity, which is checked below.
        let row = |k: usize| k.saturating_mul(g.out_h).checked_div(n).unwrap_or(0);
        let rows = row(k)..row(k.saturating_add(1));
        match output_row_band(g, rows) {
            Some((geometry, input, output)) if output.start.saturating_mul(elem) == written => {
                let bytes = output.len().saturating_mul(elem);
                *plan = (geometry, input, bytes);
                written = written.saturating_add(bytes);
            }
            _ => return conv(g, whole, out),
        }
    }
    if written != out.len() {
        return conv(g, whole, out);
    }
    let mut bands: [Band<'_>; MAX_BANDS] = Default::default();
    let mut rest: &mut [u8] = out;
    for (band, (geometry, input, bytes)) in bands.iter_mut().zip(plans).take(n) {
        let all = core::mem::take(&mut rest);
        let at = bytes.min(all.len());
        let (mine, later) = all.split_at_mut(at);
        *band = Band {
            geometry,
            input,
            output: mine,
        };
        rest = later;
    }
    if let Some(bands) = bands.get_mut(..n) {
        workers.run(bands, &|band: &mut Band<'_>| {
            conv(&band.geometry, band.input.clone(), band.output)
        });
    }
}
