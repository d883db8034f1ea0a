//! Running a model: inputs in, kernels over the arena, outputs out.

// Arithmetic here is on offsets and extents of tensors that `Model::from_bytes` has validated:
// every tensor's element count × dtype size equals its u32 byte length (checked in u64 by the
// reader), arena tensors satisfy offset + length ≤ arena_len (a u32), and the interpreter checks
// the arena is at least arena_len. So any product of one tensor's dims and any offset + length
// fits in a 32- or 64-bit usize: the bounds were validated at load.
#![allow(clippy::arithmetic_side_effects)]

use crate::model::Model;
use crate::prepare::{prepare_validated, Kernel, PreparedOp, PreparedSlot};
#[cfg(feature = "workers")]
use crate::workers::{convolve, Workers};
use crate::Error;
use mote_format::{DType, Storage, TensorInfo};
use mote_kernels::ops;
use mote_kernels::ops::concat::ConcatPart;

/// Receives the start and end of every op, for per-layer timing (`mote bench --per-op`).
///
/// The interpreter has no clock: the implementation reads whatever counter its platform has
/// (`std::time::Instant` on a host, the DWT cycle counter on a Cortex-M).
pub trait Profiler {
    /// Op `index` is about to run.
    fn op_start(&mut self, index: usize);
    /// Op `index` has finished.
    fn op_end(&mut self, index: usize);
}

/// A profiler that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProfiler;

impl Profiler for NoProfiler {
    #[inline(always)]
    fn op_start(&mut self, _: usize) {}
    #[inline(always)]
    fn op_end(&mut self, _: usize) {}
}

/// Runs a [`Model`] in an arena lent by the caller.
#[derive(Debug)]
pub struct Interpreter<'m, 'a> {
    model: &'m Model<'m>,
    arena: &'a mut [u8],
    /// Packed weights of the ops whose kernels use them, in op order (empty: none lent).
    cache: &'a [i32],
    /// Every op's kernel parameters, prepared once (empty: prepared before each run).
    prepared: &'a [PreparedSlot<'m>],
    /// Threads lent for the convolutions (`None`: every op on the caller's thread).
    #[cfg(feature = "workers")]
    workers: Option<&'a dyn Workers>,
}

#[cfg(feature = "workers")]
impl core::fmt::Debug for dyn Workers + '_ {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Workers({} threads)", self.threads())
    }
}

/// The workers `run_op` may hand bands to: those lent (feature `workers`), or none at all — a
/// build without the feature (a microcontroller's) calls the kernels as before, with no code for
/// bands (VWW's Cortex-M55 firmware has less than 100 bytes of its 512 KB of flash to spare).
#[cfg(feature = "workers")]
type Lent<'w> = Option<&'w dyn Workers>;
#[cfg(not(feature = "workers"))]
type Lent<'w> = core::marker::PhantomData<&'w ()>;

fn invalid(index: usize, reason: &'static str) -> Error {
    Error::InvalidOp {
        index: index as u32,
        reason,
    }
}

fn f32s(b: &[u8], op: usize) -> Result<&[f32], Error> {
    if b.is_empty() {
        return Ok(&[]);
    }
    bytemuck::try_cast_slice(b).map_err(|_| invalid(op, "misaligned float tensor"))
}

fn f32s_mut(b: &mut [u8], op: usize) -> Result<&mut [f32], Error> {
    if b.is_empty() {
        return Ok(&mut []);
    }
    bytemuck::try_cast_slice_mut(b).map_err(|_| invalid(op, "misaligned float tensor"))
}

fn i8s(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}

fn i8s_mut(b: &mut [u8]) -> &mut [i8] {
    bytemuck::cast_slice_mut(b)
}

fn i32s(b: &[u8], op: usize) -> Result<&[i32], Error> {
    if b.is_empty() {
        return Ok(&[]);
    }
    bytemuck::try_cast_slice(b).map_err(|_| invalid(op, "misaligned int32 tensor"))
}

fn u32s(b: &[u8], op: usize) -> Result<&[u32], Error> {
    if b.is_empty() {
        return Ok(&[]);
    }
    bytemuck::try_cast_slice(b).map_err(|_| invalid(op, "misaligned tensor"))
}

fn u32s_mut(b: &mut [u8], op: usize) -> Result<&mut [u32], Error> {
    if b.is_empty() {
        return Ok(&mut []);
    }
    bytemuck::try_cast_slice_mut(b).map_err(|_| invalid(op, "misaligned tensor"))
}

/// Where an input's bytes are: in the model file, or in the arena before or after the op's
/// output (validation proved that inputs never overlap the output).
fn pick<'x>(
    before: &'x [u8],
    after: &'x [u8],
    out_end: usize,
    storage: Storage<'x>,
    byte_len: u32,
    op: usize,
) -> Result<&'x [u8], Error> {
    let len = byte_len as usize;
    match storage {
        Storage::Const(b) => Ok(b),
        Storage::Arena { .. } if len == 0 => Ok(&[]),
        Storage::Arena { offset } => {
            let o = offset as usize;
            if o + len <= before.len() {
                before.get(o..o + len)
            } else if o >= out_end {
                after.get(o - out_end..o - out_end + len)
            } else {
                None
            }
            .ok_or(invalid(op, "input overlaps the output"))
        }
    }
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Binds `model` to `arena`.
    ///
    /// # Errors
    /// [`Error::ArenaTooSmall`] with the bytes needed, [`Error::ArenaMisaligned`] unless the
    /// arena starts 16-byte aligned.
    pub fn new(model: &'m Model<'m>, arena: &'a mut [u8]) -> Result<Self, Error> {
        let needed = model.arena_len();
        if arena.len() < needed {
            return Err(Error::ArenaTooSmall {
                needed,
                given: arena.len(),
            });
        }
        if !(arena.as_ptr() as usize).is_multiple_of(16) {
            return Err(Error::ArenaMisaligned);
        }
        Ok(Interpreter {
            model,
            arena,
            cache: &[],
            prepared: &[],
            #[cfg(feature = "workers")]
            workers: None,
        })
    }

    /// Prepares every op once into `slots` (one per op, see [`PreparedSlot`]) and runs from
    /// them: each inference then skips decoding the op records and their tensors. The model
    /// stays read in place; the slots borrow from it.
    ///
    /// # Errors
    /// [`Error::PreparedOpsTooFew`] with the op count when `slots` is shorter.
    pub fn with_prepared_ops(mut self, slots: &'a mut [PreparedSlot<'m>]) -> Result<Self, Error> {
        let file = *self.model.file();
        let ops = file.op_count();
        let given = slots.len();
        let slots = slots
            .get_mut(..ops)
            .ok_or(Error::PreparedOpsTooFew { needed: ops, given })?;
        for (i, slot) in slots.iter_mut().enumerate() {
            *slot = PreparedSlot(Some(prepare_validated(&file, i)?));
        }
        self.prepared = slots;
        Ok(self)
    }

    /// Op `i` ready to run: from its prepared slot, or prepared now.
    fn op(&self, file: &mote_format::Model<'m>, i: usize) -> Result<PreparedOp<'m>, Error> {
        match self.prepared.get(i) {
            Some(PreparedSlot(Some(op))) => Ok(*op),
            _ => prepare_validated(file, i),
        }
    }

    /// Bytes of the weight cache [`Interpreter::with_weight_cache`] takes for `model` on this
    /// machine (alignment slack included); 0 when no op's kernel would use one.
    ///
    /// # Errors
    /// As [`Interpreter::new`] for an op that does not prepare.
    pub fn weight_cache_len(model: &Model<'_>) -> Result<usize, Error> {
        let file = *model.file();
        let mut words = 0usize;
        for i in 0..file.op_count() {
            words = words.saturating_add(op_cache_len(&file, &prepare_validated(&file, i)?));
        }
        Ok(if words == 0 {
            0
        } else {
            words
                .saturating_add(cache_header_words(file.op_count()))
                .saturating_mul(4)
                .saturating_add(CACHE_ALIGN)
        })
    }

    /// [`Interpreter::new`] plus a weight cache: the kernels that repack their weights on every
    /// call (the x86 AVX-512 int8 GEMM) pack them once, here, into `cache`
    /// ([`Interpreter::weight_cache_len`] bytes, any alignment), and read them from it on every
    /// run. For hosts with memory to spare; outputs are the same bit for bit.
    ///
    /// # Errors
    /// As [`Interpreter::new`]; [`Error::WeightCacheTooSmall`] with the bytes needed.
    pub fn with_weight_cache(
        model: &'m Model<'m>,
        arena: &'a mut [u8],
        cache: &'a mut [u8],
    ) -> Result<Self, Error> {
        let mut it = Self::new(model, arena)?;
        let needed = Self::weight_cache_len(model)?;
        if needed == 0 {
            return Ok(it);
        }
        let given = cache.len();
        let skip = cache.as_ptr().align_offset(CACHE_ALIGN);
        let bytes = cache
            .get_mut(skip..)
            .and_then(|c| c.get_mut(..needed - CACHE_ALIGN))
            .ok_or(Error::WeightCacheTooSmall { needed, given })?;
        let words: &mut [i32] = bytemuck::try_cast_slice_mut(bytes)
            .map_err(|_| Error::WeightCacheTooSmall { needed, given })?;
        let file = *model.file();
        let ops = file.op_count();
        let (header, slots) = words.split_at_mut(cache_header_words(ops).min(words.len()));
        let mut at = header.len();
        for i in 0..ops {
            let op = prepare_validated(&file, i)?;
            let len = op_cache_len(&file, &op);
            let start = i32::try_from(at).map_err(|_| invalid(i, "weight cache layout"))?;
            *header.get_mut(i).ok_or(invalid(i, "weight cache layout"))? = start;
            if len == 0 {
                continue;
            }
            let slot = slots
                .get_mut(at - header.len()..at - header.len() + len)
                .ok_or(invalid(i, "weight cache layout"))?;
            fill_op_cache(&file, &op, i, slot)?;
            at += len;
        }
        let end = i32::try_from(at).map_err(|_| invalid(ops, "weight cache layout"))?;
        *header
            .get_mut(ops)
            .ok_or(invalid(ops, "weight cache layout"))? = end;
        it.cache = words;
        Ok(it)
    }

    /// Lends `workers` the convolutions: each one with work enough is cut into bands of output
    /// rows that `workers` runs (see [`Workers`]). Outputs are the same bit for bit in int8;
    /// in f32 a band may take another kernel than the whole layer would (its geometry differs),
    /// which changes rounding only.
    #[cfg(feature = "workers")]
    pub fn with_workers(mut self, workers: &'a dyn Workers) -> Self {
        self.workers = Some(workers);
        self
    }

    /// The workers lent, for `run_op`.
    fn lent(&self) -> Lent<'a> {
        #[cfg(feature = "workers")]
        return self.workers;
        #[cfg(not(feature = "workers"))]
        core::marker::PhantomData
    }

    /// The model.
    pub fn model(&self) -> &'m Model<'m> {
        self.model
    }

    fn arena_range(&self, t: &TensorInfo<'_>) -> Option<core::ops::Range<usize>> {
        match t.storage {
            Storage::Arena { offset } => {
                Some(offset as usize..offset as usize + t.byte_len as usize)
            }
            Storage::Const(_) => None,
        }
    }

    /// The bytes of graph input `index`, to fill before [`Interpreter::invoke`].
    pub fn input_mut(&mut self, index: usize) -> Result<&mut [u8], Error> {
        let t = self.model.input(index)?;
        let r = self
            .arena_range(&t)
            .ok_or(Error::NoSuchTensor { index, count: 0 })?;
        self.arena.get_mut(r).ok_or(Error::ArenaTooSmall {
            needed: self.model.arena_len(),
            given: 0,
        })
    }

    /// Graph input `index` as floats.
    pub fn input_f32_mut(&mut self, index: usize) -> Result<&mut [f32], Error> {
        let t = self.model.input(index)?;
        if t.dtype != DType::F32 {
            return Err(Error::WrongDType {
                index,
                expected: t.dtype,
                found: DType::F32,
            });
        }
        let b = self.input_mut(index)?;
        bytemuck::try_cast_slice_mut(b).map_err(|_| Error::ArenaMisaligned)
    }

    /// Copies `data` (little-endian bytes of the input's dtype) into graph input `index`.
    pub fn set_input(&mut self, index: usize, data: &[u8]) -> Result<(), Error> {
        let dst = self.input_mut(index)?;
        if dst.len() != data.len() {
            return Err(Error::WrongInputSize {
                index,
                expected: dst.len(),
                found: data.len(),
            });
        }
        dst.copy_from_slice(data);
        Ok(())
    }

    /// The bytes of graph output `index`, valid after [`Interpreter::invoke`].
    pub fn output(&self, index: usize) -> Result<&[u8], Error> {
        let t = self.model.output(index)?;
        match t.storage {
            Storage::Const(b) => Ok(b),
            Storage::Arena { .. } => {
                let r = self
                    .arena_range(&t)
                    .ok_or(Error::NoSuchTensor { index, count: 0 })?;
                self.arena.get(r).ok_or(Error::ArenaTooSmall {
                    needed: self.model.arena_len(),
                    given: 0,
                })
            }
        }
    }

    /// Graph output `index` as floats.
    pub fn output_f32(&self, index: usize) -> Result<&[f32], Error> {
        let t = self.model.output(index)?;
        if t.dtype != DType::F32 {
            return Err(Error::WrongDType {
                index,
                expected: t.dtype,
                found: DType::F32,
            });
        }
        bytemuck::try_cast_slice(self.output(index)?).map_err(|_| Error::ArenaMisaligned)
    }

    /// Runs every op.
    ///
    /// The arena space of the inputs is reused once they have been read, so write every input
    /// again before each call.
    pub fn invoke(&mut self) -> Result<(), Error> {
        self.invoke_profiled(&mut NoProfiler)
    }

    /// Runs ops `range` (execution order) only: for stepping through a model layer by layer
    /// and comparing intermediate tensors with another runtime.
    pub fn invoke_ops(&mut self, range: core::ops::Range<usize>) -> Result<(), Error> {
        self.with_workers_ready(|it| {
            let file = *it.model.file();
            for i in range.start..range.end.min(file.op_count()) {
                let op = it.op(&file, i)?;
                run_op(&file, &op, i, it.arena, it.op_cache(i), it.lent())?;
            }
            Ok(())
        })
    }

    /// Runs `f` between the lent workers' [`Workers::begin`] and [`Workers::end`] (the end also
    /// after an error).
    fn with_workers_ready<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        #[cfg(feature = "workers")]
        if let Some(w) = self.workers {
            w.begin();
        }
        let result = f(self);
        #[cfg(feature = "workers")]
        if let Some(w) = self.workers {
            w.end();
        }
        result
    }

    /// Words (`i32`) of the weight cache op `op` reads on each run: 0 without a cache, for ops
    /// whose kernel uses none, and past the last op.
    pub fn weight_cache_words(&self, op: usize) -> usize {
        self.op_cache(op).len()
    }

    /// Op `i`'s part of the weight cache (empty without one), from the cache's header (written
    /// by [`Interpreter::with_weight_cache`]): looking it up, rather than adding up every
    /// earlier op's cache length on each run, saves two tensor decodes and a kernel plan per
    /// convolution and inference. A slice the kernels do not recognise is ignored by them.
    fn op_cache(&self, i: usize) -> &'a [i32] {
        let bound = |k: usize| self.cache.get(k).and_then(|&w| usize::try_from(w).ok());
        match (bound(i), bound(i + 1)) {
            (Some(s), Some(e)) => self.cache.get(s..e).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The bytes of any tensor (a constant, or its place in the arena — which later ops may
    /// have reused, so read an intermediate right after the op that writes it).
    pub fn tensor_bytes(&self, index: u32) -> Result<&[u8], Error> {
        let count = self.model.file().tensor_count();
        let t = self.model.file().tensor(index).ok_or(Error::NoSuchTensor {
            index: index as usize,
            count,
        })?;
        match t.storage {
            Storage::Const(b) => Ok(b),
            Storage::Arena { .. } => {
                let r = self.arena_range(&t).ok_or(Error::NoSuchTensor {
                    index: index as usize,
                    count,
                })?;
                self.arena.get(r).ok_or(Error::ArenaTooSmall {
                    needed: self.model.arena_len(),
                    given: self.arena.len(),
                })
            }
        }
    }

    /// The arena bytes of a tensor, to write (constants cannot be written).
    pub fn tensor_bytes_mut(&mut self, index: u32) -> Result<&mut [u8], Error> {
        let count = self.model.file().tensor_count();
        let t = self.model.file().tensor(index).ok_or(Error::NoSuchTensor {
            index: index as usize,
            count,
        })?;
        let r = self.arena_range(&t).ok_or(Error::NoSuchTensor {
            index: index as usize,
            count,
        })?;
        let (needed, given) = (self.model.arena_len(), self.arena.len());
        self.arena
            .get_mut(r)
            .ok_or(Error::ArenaTooSmall { needed, given })
    }

    /// Runs every op, reporting each op's start and end to `profiler`.
    pub fn invoke_profiled<P: Profiler + ?Sized>(&mut self, profiler: &mut P) -> Result<(), Error> {
        self.with_workers_ready(|it| {
            let file = *it.model.file();
            for i in 0..file.op_count() {
                let op = it.op(&file, i)?;
                let cache = it.op_cache(i);
                profiler.op_start(i);
                run_op(&file, &op, i, it.arena, cache, it.lent())?;
                profiler.op_end(i);
            }
            Ok(())
        })
    }
}

/// Alignment of the weight cache (the AVX-512 kernels load it with aligned 64-byte loads).
const CACHE_ALIGN: usize = 64;

/// Words of the weight cache's header: op `i`'s slot starts at word `header[i]` and ends at
/// `header[i + 1]`; padded to whole 64-byte lines so the slots after it keep the alignment.
fn cache_header_words(ops: usize) -> usize {
    ops.saturating_add(1).next_multiple_of(CACHE_ALIGN / 4)
}

/// The constant weights, bias, multipliers and shifts of an int8 convolution (`None` if any
/// lives in the arena).
#[allow(clippy::type_complexity)]
fn conv_s8_constants<'f>(
    file: &mote_format::Model<'f>,
    op: &PreparedOp<'_>,
) -> Option<(&'f [i8], &'f [i32], &'f [i32], &'f [i32])> {
    let constant = |k: usize| match op.inputs.get(k).and_then(|t| file.tensor(t))?.storage {
        Storage::Const(b) => Some(b),
        Storage::Arena { .. } => None,
    };
    let words = |k: usize| -> Option<&'f [i32]> {
        let b = constant(k)?;
        if b.is_empty() {
            Some(&[])
        } else {
            bytemuck::try_cast_slice(b).ok()
        }
    };
    Some((i8s(constant(1)?), words(2)?, words(3)?, words(4)?))
}

/// The constant weights of a float convolution and whether it has a bias (`None` if the weights
/// live in the arena).
fn conv_f32_weights<'f>(
    file: &mote_format::Model<'f>,
    op: &PreparedOp<'_>,
) -> Option<(&'f [f32], bool)> {
    let t = op.inputs.get(1).and_then(|t| file.tensor(t))?;
    let Storage::Const(b) = t.storage else {
        return None;
    };
    let w: &[f32] = if b.is_empty() {
        &[]
    } else {
        bytemuck::try_cast_slice(b).ok()?
    };
    Some((w, op.inputs.len() > 2))
}

/// `i32`s (4-byte words) of op `i`'s part of the weight cache (0 for ops that do not use one).
fn op_cache_len(file: &mote_format::Model<'_>, op: &PreparedOp<'_>) -> usize {
    match &op.kernel {
        Kernel::Conv2dS8(p) => conv_s8_constants(file, op).map_or(0, |(w, ..)| {
            ops::conv2d::conv2d_s8_cache_len(p, w.len(), true)
        }),
        Kernel::Conv2d(p) => conv_f32_weights(file, op).map_or(0, |(w, bias)| {
            ops::conv2d::conv2d_f32_cache_len(p, w.len(), bias)
        }),
        _ => 0,
    }
}

/// Packs op `i`'s weights into its part of the cache.
fn fill_op_cache(
    file: &mote_format::Model<'_>,
    op: &PreparedOp<'_>,
    i: usize,
    slot: &mut [i32],
) -> Result<(), Error> {
    let packed = match &op.kernel {
        Kernel::Conv2dS8(p) => conv_s8_constants(file, op).is_some_and(|(w, b, m, sh)| {
            ops::conv2d::conv2d_s8_fill_cache(p, w, Some(b), m, sh, slot)
        }),
        Kernel::Conv2d(p) => conv_f32_weights(file, op).is_some_and(|(w, bias)| {
            ops::conv2d::conv2d_f32_fill_cache(p, w, bias, bytemuck::cast_slice_mut(slot))
        }),
        _ => false,
    };
    if packed {
        Ok(())
    } else {
        Err(invalid(i, "weights the kernel cannot pack"))
    }
}

fn run_op(
    file: &mote_format::Model<'_>,
    op: &PreparedOp<'_>,
    i: usize,
    arena: &mut [u8],
    cache: &[i32],
    workers: Lent<'_>,
) -> Result<(), Error> {
    #[cfg(not(feature = "workers"))]
    let _ = workers;
    let (out_storage, out_len) = file
        .tensor_placement(op.output)
        .ok_or(invalid(i, "missing output"))?;
    let Storage::Arena { offset } = out_storage else {
        return Err(invalid(i, "output is a constant"));
    };
    let (o0, len) = (offset as usize, out_len as usize);
    if o0.checked_add(len).is_none_or(|e| e > arena.len()) {
        return Err(invalid(i, "output outside the arena"));
    }
    let (before, rest) = arena.split_at_mut(o0);
    let (out, after) = rest.split_at_mut(len);
    let (before, after): (&[u8], &[u8]) = (before, after);
    let out_end = o0 + len;
    let n_in = op.inputs.len();
    let tensor = |k: usize| {
        op.inputs
            .get(k)
            .and_then(|t| file.tensor(t))
            .ok_or(invalid(i, "missing input"))
    };
    let in_bytes = |k: usize| -> Result<&[u8], Error> {
        let placed = op.inputs.get(k).and_then(|t| file.tensor_placement(t));
        let (storage, bytes) = placed.ok_or(invalid(i, "missing input"))?;
        pick(before, after, out_end, storage, bytes, i)
    };
    let x = in_bytes(0)?;
    let opt = |k: usize| -> Result<Option<&[f32]>, Error> {
        if k < n_in {
            Ok(Some(f32s(in_bytes(k)?, i)?))
        } else {
            Ok(None)
        }
    };
    let wide = op.dtype.size() == 4;
    match &op.kernel {
        Kernel::Conv2d(p) => {
            let (x, w, b) = (f32s(x, i)?, f32s(in_bytes(1)?, i)?, opt(2)?);
            let cache: &[f32] = bytemuck::cast_slice(cache);
            #[cfg(feature = "workers")]
            if let Some(workers) = workers.filter(|w| w.threads() > 1) {
                // A band's output starts on an element, so it is as aligned as the whole output.
                f32s_mut(out, i)?;
                convolve(workers, p, 4, out, &|g, xr, o| {
                    if let (Some(x), Ok(o)) = (x.get(xr), bytemuck::try_cast_slice_mut(o)) {
                        ops::conv2d::conv2d_f32_cached(g, x, w, b, cache, o)
                    }
                });
                return Ok(());
            }
            ops::conv2d::conv2d_f32_cached(p, x, w, b, cache, f32s_mut(out, i)?)
        }
        Kernel::ConvTranspose2d(p) => {
            let w = f32s(in_bytes(1)?, i)?;
            ops::conv_transpose2d::conv_transpose2d_f32(
                p,
                f32s(x, i)?,
                w,
                opt(2)?,
                f32s_mut(out, i)?,
            )
        }
        Kernel::FullyConnected(p) => {
            let w = f32s(in_bytes(1)?, i)?;
            ops::fully_connected::fully_connected_f32(p, f32s(x, i)?, w, opt(2)?, f32s_mut(out, i)?)
        }
        Kernel::MatMul(p) => {
            let b = f32s(in_bytes(1)?, i)?;
            ops::matmul::matmul_f32(p, f32s(x, i)?, b, f32s_mut(out, i)?)
        }
        Kernel::Binary(p) => {
            let b = f32s(in_bytes(1)?, i)?;
            ops::binary::binary_f32(p, f32s(x, i)?, b, f32s_mut(out, i)?)
        }
        Kernel::Unary(a) => ops::unary::activation_f32(*a, f32s(x, i)?, f32s_mut(out, i)?),
        Kernel::Concat { axis } => {
            let out_t = file.tensor(op.output).ok_or(invalid(i, "missing output"))?;
            let os = out_t.shape();
            let outer: usize = os.iter().take(*axis).map(|&d| d as usize).product();
            let inner: usize = os.iter().skip(axis + 1).map(|&d| d as usize).product();
            let out_block = os.get(*axis).map(|&d| d as usize).unwrap_or(1) * inner;
            let mut offset = 0usize;
            for k in 0..n_in {
                let t = tensor(k)?;
                let in_block = t.shape().get(*axis).map(|&d| d as usize).unwrap_or(1) * inner;
                let part = ConcatPart {
                    outer,
                    in_block,
                    out_block,
                    offset,
                };
                let src = in_bytes(k)?;
                if wide {
                    ops::concat::concat_part(&part, u32s(src, i)?, u32s_mut(out, i)?)
                } else {
                    ops::concat::concat_part(&part, src, out)
                }
                offset += in_block;
            }
        }
        Kernel::Slice(p) => {
            if wide {
                ops::slice::slice(p, u32s(x, i)?, u32s_mut(out, i)?)
            } else {
                ops::slice::slice(p, x, out)
            }
        }
        Kernel::MaxPool2d(p) => ops::pool2d::max_pool2d_f32(p, f32s(x, i)?, f32s_mut(out, i)?),
        Kernel::AvgPool2d(p) => ops::pool2d::avg_pool2d_f32(p, f32s(x, i)?, f32s_mut(out, i)?),
        Kernel::ReduceMean(p) => ops::reduce::reduce_mean_f32(p, f32s(x, i)?, f32s_mut(out, i)?),
        Kernel::Reshape => {
            if out.len() == x.len() {
                out.copy_from_slice(x)
            }
        }
        Kernel::Transpose(p) => {
            if wide {
                ops::transpose::transpose(p, u32s(x, i)?, u32s_mut(out, i)?)
            } else {
                ops::transpose::transpose(p, x, out)
            }
        }
        Kernel::Softmax(p) => ops::softmax::softmax_f32(p, f32s(x, i)?, f32s_mut(out, i)?),
        Kernel::Pad { params, value } => match op.dtype {
            DType::F32 => ops::pad::pad(params, *value, f32s(x, i)?, f32s_mut(out, i)?),
            DType::I32 => {
                ops::pad::pad(params, *value as i32 as u32, u32s(x, i)?, u32s_mut(out, i)?)
            }
            DType::I8 => ops::pad::pad(params, (*value as i8) as u8, x, out),
            DType::U8 => ops::pad::pad(params, *value as u8, x, out),
        },
        Kernel::Resize(p) => match op.dtype {
            DType::I8 => ops::resize::resize_s8(p, i8s(x), i8s_mut(out)),
            _ => ops::resize::resize_f32(p, f32s(x, i)?, f32s_mut(out, i)?),
        },
        Kernel::Conv2dS8(p) => {
            let (w, b, m, sh) = (
                i8s(in_bytes(1)?),
                i32s(in_bytes(2)?, i)?,
                i32s(in_bytes(3)?, i)?,
                i32s(in_bytes(4)?, i)?,
            );
            #[cfg(feature = "workers")]
            if let Some(workers) = workers.filter(|w| w.threads() > 1) {
                let x = i8s(x);
                convolve(workers, &p.geometry, 1, out, &|g, xr, o| {
                    if let Some(x) = x.get(xr) {
                        let band = ops::conv2d::Conv2dS8Params { geometry: *g, ..*p };
                        let o = i8s_mut(o);
                        ops::conv2d::conv2d_s8_cached(&band, x, w, Some(b), m, sh, cache, o)
                    }
                });
                return Ok(());
            }
            ops::conv2d::conv2d_s8_cached(p, i8s(x), w, Some(b), m, sh, cache, i8s_mut(out))
        }
        Kernel::FullyConnectedS8(p) => {
            let (w, b, m, sh) = (
                i8s(in_bytes(1)?),
                i32s(in_bytes(2)?, i)?,
                i32s(in_bytes(3)?, i)?,
                i32s(in_bytes(4)?, i)?,
            );
            ops::fully_connected::fully_connected_s8(p, i8s(x), w, Some(b), m, sh, i8s_mut(out))
        }
        Kernel::FullyConnectedS8Scaled(p) => {
            let (w, b) = (i8s(in_bytes(1)?), i32s(in_bytes(2)?, i)?);
            let scales: &[f64] = bytemuck::try_cast_slice(in_bytes(3)?)
                .map_err(|_| invalid(i, "misaligned scales"))?;
            ops::fully_connected::fully_connected_s8_scaled(
                p,
                i8s(x),
                w,
                Some(b),
                scales,
                i8s_mut(out),
            )
        }
        Kernel::AddS8(p) => ops::binary::add_s8(p, i8s(x), i8s(in_bytes(1)?), i8s_mut(out)),
        Kernel::MulS8(p) => ops::binary::mul_s8(p, i8s(x), i8s(in_bytes(1)?), i8s_mut(out)),
        Kernel::MaxPool2dS8(p) => ops::pool2d::max_pool2d_s8(p, i8s(x), i8s_mut(out)),
        Kernel::AvgPool2dS8(p) => ops::pool2d::avg_pool2d_s8(p, i8s(x), i8s_mut(out)),
        Kernel::SoftmaxS8(p) => ops::softmax::softmax_s8(p, i8s(x), i8s_mut(out)),
        Kernel::Quantize(p) => ops::quantize::quantize_f32_s8(p, f32s(x, i)?, i8s_mut(out)),
        Kernel::Dequantize(p) => ops::quantize::dequantize_s8_f32(p, i8s(x), f32s_mut(out, i)?),
        Kernel::Requantize(p) => ops::quantize::requantize_s8(p, i8s(x), i8s_mut(out)),
        Kernel::DequantizeWeights { inner } => ops::quantize::dequantize_weights_s8_f32(
            i8s(x),
            f32s(in_bytes(1)?, i)?,
            *inner,
            f32s_mut(out, i)?,
        ),
        Kernel::MeanS8(p) => ops::reduce::mean_s8(p, i8s(x), i8s_mut(out)),
        Kernel::LookupS8 => {
            let table: &[i8; 256] = i8s(in_bytes(1)?)
                .try_into()
                .map_err(|_| invalid(i, "lookup table size"))?;
            ops::quantize::lookup_s8(table, i8s(x), i8s_mut(out))
        }
    }
    Ok(())
}
