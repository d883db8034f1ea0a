//! A pool of threads for [`Workers`] (feature `threads`, hosts and phones with `std`).
//!
//! Why rayon, and why spinning: the bands of a layer borrow the arena for that layer only, and
//! rayon's scoped jobs are the safe way to hand such borrows to other threads. But its idle
//! threads sleep, and waking one costs about as much as one of MobileNetV2's smaller layers:
//! with a pool that let them sleep, its int8 layers cut right after an uncut one took 14–20 µs
//! more on two threads than on one (13.7 → 30.6 µs, 20.2 → 39.8 µs; `mote bench
//! mobilenet_v2_int8.mote --per-op --json --iters 50 --threads 2` against `--threads 1`). So for
//! the length of one inference ([`Workers::begin`] to [`Workers::end`]) and a millisecond after
//! it (`SPIN_AFTER_NS`: the next inference of a benchmark or a video stream finds them awake)
//! every other thread of the pool spins, picking up bands as soon as they are queued, and the
//! calling thread is a member of the pool (rayon's `use_current_thread`): it runs bands itself
//! and takes back the ones nobody has started, never waiting to be woken. This is what XNNPACK's
//! pthreadpool does too; it costs the other cores' time during an inference.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::workers::{Band, Workers, MIN_BAND_MACS_F32, MIN_BAND_MACS_S8};

/// `n` threads for the convolutions ([`crate::Interpreter::with_workers`]): the thread that
/// creates the pool and `n − 1` others, kept for the pool's lifetime. Create it on the thread
/// that runs the inferences: that thread then works on bands too. From any other thread the pool
/// still runs correctly, with its own `n` threads while the caller waits.
#[derive(Debug)]
pub struct ThreadPool {
    threads: usize,
    pool: Option<rayon::ThreadPool>,
    /// The state the spinning threads share.
    spin: Arc<Spin>,
    /// [`Workers::min_band_macs`] for int8 and f32 layers.
    min_band_macs: (usize, usize),
}

impl ThreadPool {
    /// A pool of `threads` threads in all, the caller's included (0 counts as 1; 1 runs every
    /// layer on the caller's thread).
    ///
    /// # Errors
    /// When the operating system refuses to start the threads.
    pub fn new(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let threads = threads.max(1);
        let build = |current: bool| {
            let b = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|k| std::format!("mote-worker-{k}"));
            if current { b.use_current_thread() } else { b }.build()
        };
        let pool = if threads > 1 {
            // A thread can belong to one such pool only: a second pool made on the same thread
            // runs with its own threads alone (the caller then waits on a lock for each layer).
            Some(build(true).or_else(|_| build(false))?)
        } else {
            None
        };
        Ok(ThreadPool {
            threads,
            pool,
            spin: Arc::new(Spin {
                running: AtomicBool::new(false),
                until: AtomicU64::new(0),
                live: AtomicUsize::new(0),
                layers: AtomicUsize::new(0),
                closing: AtomicBool::new(false),
                start: Instant::now(),
            }),
            min_band_macs: (MIN_BAND_MACS_S8, MIN_BAND_MACS_F32),
        })
    }

    /// The same pool with other thresholds for cutting a layer (see [`Workers::min_band_macs`]):
    /// for hosts whose threads start faster or slower than the defaults assume, and for tests
    /// (1 and 1 cut every layer of two rows or more).
    #[must_use]
    pub fn with_min_band_macs(mut self, int8: usize, f32: usize) -> Self {
        self.min_band_macs = (int8.max(1), f32.max(1));
        self
    }
}

impl Workers for ThreadPool {
    fn threads(&self) -> usize {
        self.threads
    }

    fn min_band_macs(&self, float: bool) -> usize {
        if float {
            self.min_band_macs.1
        } else {
            self.min_band_macs.0
        }
    }

    fn begin(&self) {
        let Some(pool) = &self.pool else {
            return;
        };
        let spin = &self.spin;
        spin.running.store(true, Ordering::Release);
        // Spinners still spinning from the last inference (within its grace period) go on;
        // the others are started. The caller, when it is a member, must never spin (it is the
        // thread that ends the spin): should it pick a spinner from its own queue while it waits
        // in a layer, that spinner returns.
        let caller = pool.current_thread_index();
        let live = spin.live.load(Ordering::Acquire);
        for _ in live..self.threads.saturating_sub(1) {
            spin.live.fetch_add(1, Ordering::AcqRel);
            let spin = Arc::clone(&self.spin);
            pool.spawn(move || {
                if caller.is_some() && rayon::current_thread_index() == caller {
                    spin.live.fetch_sub(1, Ordering::AcqRel);
                    return;
                }
                spin.spin();
            });
        }
    }

    fn end(&self) {
        let spin = &self.spin;
        let until = spin.now().saturating_add(SPIN_AFTER_NS);
        spin.until.store(until, Ordering::Release);
        spin.running.store(false, Ordering::Release);
    }

    fn run(&self, bands: &mut [Band<'_>], job: &(dyn Fn(&mut Band<'_>) + Sync)) {
        let Some(pool) = &self.pool else {
            return bands.iter_mut().for_each(job);
        };
        self.spin.layers.fetch_add(1, Ordering::AcqRel);
        pool.install(|| bands.par_iter_mut().with_max_len(1).for_each(job));
        self.spin.layers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.spin.closing.store(true, Ordering::Release);
        self.spin.running.store(false, Ordering::Release);
    }
}

/// How long the other threads keep spinning after an inference, in nanoseconds: back-to-back
/// inferences (a benchmark, a video stream) then find them awake; after it, they sleep. A
/// model run once in a while pays the wake-up at its first layers. (XNNPACK's pthreadpool and
/// ONNX Runtime's pool spin a while after their work too.)
const SPIN_AFTER_NS: u64 = 1_000_000;

/// What the spinning threads share.
#[derive(Debug)]
struct Spin {
    /// An inference is running.
    running: AtomicBool,
    /// Spin until this time (nanoseconds since `start`) once the inference has ended.
    until: AtomicU64,
    /// Spinners started and not yet returned.
    live: AtomicUsize,
    /// Layers whose bands are queued or running.
    layers: AtomicUsize,
    /// The pool is being dropped: every spinner returns.
    closing: AtomicBool,
    start: Instant,
}

impl Spin {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// One pool thread's spin: runs the bands queued meanwhile, until the inference and its
    /// grace period are over.
    fn spin(&self) {
        loop {
            let hot = self.running.load(Ordering::Acquire)
                || self.now() < self.until.load(Ordering::Acquire);
            if hot && !self.closing.load(Ordering::Acquire) {
                // Look for bands only while a layer has some queued: between layers the spin
                // reads one flag and writes nothing, where searching rayon's queues over and over
                // slowed the caller's own layers (ResNet-8 f32's uncut layer 5: 23 -> 40 µs on
                // two threads, 30 µs with this; `mote bench resnet8_f32.mote --per-op --json
                // --threads 2 --iters 4000` against `--threads 1`).
                if self.layers.load(Ordering::Acquire) == 0
                    || rayon::yield_now() != Some(rayon::Yield::Executed)
                {
                    std::hint::spin_loop();
                }
                continue;
            }
            self.live.fetch_sub(1, Ordering::AcqRel);
            // An inference that began after the check above counted this spinner as live.
            if self.running.load(Ordering::Acquire) && !self.closing.load(Ordering::Acquire) {
                self.live.fetch_add(1, Ordering::AcqRel);
                continue;
            }
            return;
        }
    }
}
