//! A pool of threads for [`Workers`] (feature `threads`, hosts and phones with `std`).
//!
//! Why rayon, and why spinning: the bands of a layer borrow the arena for that layer only, and
//! rayon's scoped jobs are the safe way to hand such borrows to other threads. But its idle
//! threads sleep, and waking one costs 10–100 µs on a busy host — more than most of
//! MobileNetV2's layers take. So for the length of one inference ([`Workers::begin`] to
//! [`Workers::end`]) every other thread of the pool spins, picking up bands as soon as they are
//! queued, and the calling thread is a member of the pool (rayon's `use_current_thread`): it runs
//! bands itself and takes back the ones nobody has started, never waiting to be woken. This is
//! what XNNPACK's pthreadpool does too; it costs the other cores' time during an inference.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
    /// Odd during an inference (the pool's other threads spin), even between.
    epoch: Arc<AtomicUsize>,
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
            epoch: Arc::new(AtomicUsize::new(0)),
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
        // An odd epoch: this inference's. Each spinner spins while the epoch is the one it was
        // queued in, so a spinner that starts late, after `end`, returns at once.
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        // The caller, when it is a member, must never spin (it is the thread that ends the
        // spin): should it pick a spinner from its own queue while it waits in a layer, the
        // spinner returns.
        let caller = pool.current_thread_index();
        for _ in 1..self.threads {
            let current = Arc::clone(&self.epoch);
            pool.spawn(move || {
                if caller.is_some() && rayon::current_thread_index() == caller {
                    return;
                }
                while current.load(Ordering::Acquire) == epoch {
                    if rayon::yield_now() != Some(rayon::Yield::Executed) {
                        std::hint::spin_loop();
                    }
                }
            });
        }
    }

    fn end(&self) {
        if self.epoch.load(Ordering::Acquire) % 2 == 1 {
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn run(&self, bands: &mut [Band<'_>], job: &(dyn Fn(&mut Band<'_>) + Sync)) {
        let Some(pool) = &self.pool else {
            return bands.iter_mut().for_each(job);
        };
        pool.install(|| bands.par_iter_mut().with_max_len(1).for_each(job));
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.end();
    }
}
