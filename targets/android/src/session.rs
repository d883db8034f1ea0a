//! The state behind one Java `dev.mote.Model`, free of JNI so that it can be tested in Rust.
//!
//! A [`Session`] is a validated model and the arena it runs in. The model's bytes are either a
//! copy the session owns (`Model.load(byte[])`) or memory Java lends (`Model.load(ByteBuffer)`
//! on a direct buffer, read in place). The session also remembers which inputs were written
//! since the last run: the interpreter reuses the inputs' arena space once it has read them, so
//! running twice without writing the inputs again would silently compute on garbage. Here it is
//! an error instead.

use crate::failure::{Failure, Kind};
use bytemuck::{Pod, Zeroable};
use mote_runtime::{DType, Interpreter, Model, Storage, TensorInfo};
use std::time::Instant;

/// Required alignment, in bytes, of the model bytes (the weights inside are aligned for SIMD loads).
pub const ALIGNMENT: usize = 16;

/// One 16-byte aligned unit of an owned buffer (the model copy, the arena).
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(16))]
struct Block([u8; 16]);

/// A zeroed, 16-byte aligned heap buffer of at least `len` bytes, or `OutOfMemory`.
fn aligned_buffer(len: usize, what: &str) -> Result<Vec<Block>, Failure> {
    let blocks = len.div_ceil(16);
    let mut v = Vec::new();
    v.try_reserve_exact(blocks).map_err(|_| {
        Failure::new(
            Kind::OutOfMemory,
            format!("cannot allocate {len} bytes for the {what}"),
        )
    })?;
    v.resize(blocks, Block([0; 16]));
    Ok(v)
}

/// Graph input or output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// A graph input.
    Input,
    /// A graph output.
    Output,
}

/// A validated model bound to its own arena.
pub struct Session {
    /// The validated view of the model bytes: of `owned_model`, or of memory Java lends under
    /// the contract of [`Session::from_lent`]. `'static` stands for "as long as this session".
    model: Model<'static>,
    /// The arena, allocated for the model (`model.arena_len()` bytes, rounded up to 16).
    arena: Vec<Block>,
    /// The copy of the model bytes when the session owns them (empty when lent). Never touched
    /// after creation except to be dropped: `model` points into its heap buffer, which does not
    /// move when the Vec does.
    _owned_model: Vec<Block>,
    /// Per graph input: written since the last run (constant inputs are always ready).
    fresh: Vec<bool>,
    /// Whether the outputs hold the result of a run on the current inputs.
    ran: bool,
    /// Duration of the last successful run, in nanoseconds (0 before the first).
    last_nanos: u64,
    /// Threads for the convolutions (`Model.setThreads`); `None`: the caller's thread only.
    pool: Option<mote_runtime::ThreadPool>,
}

impl Session {
    /// Copies `bytes` into an aligned buffer the session owns and validates the model.
    pub fn from_copy(bytes: &[u8]) -> Result<Self, Failure> {
        Self::from_filled(bytes.len(), |dst| {
            dst.copy_from_slice(bytes);
            Ok(())
        })
    }

    /// Lets `fill` write the model's `len` bytes straight into an aligned buffer the session
    /// owns (from a Java array, with no intermediate copy), then validates the model.
    pub fn from_filled(
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Failure>,
    ) -> Result<Self, Failure> {
        let mut owned = aligned_buffer(len, "model copy")?;
        let dst = bytemuck::cast_slice_mut::<Block, u8>(&mut owned)
            .get_mut(..len)
            .ok_or_else(|| Failure::new(Kind::Internal, "model buffer too short".into()))?;
        fill(dst)?;
        let ptr = owned.as_ptr().cast::<u8>();
        // SAFETY: `ptr` is the start of `owned`'s heap buffer, which holds at least `len`
        // initialised bytes. The buffer is moved into the session below and never written,
        // resized or freed before the session (and with it `model`, the only user of the
        // slice) is dropped; moving the Vec does not move its heap buffer.
        let view: &'static [u8] = unsafe { core::slice::from_raw_parts(ptr, len) };
        Self::new(view, owned)
    }

    /// Validates the model in `len` bytes at `ptr` WITHOUT copying them.
    ///
    /// # Safety
    /// `ptr` is readable for `len` bytes, and those bytes stay alive and unchanged until the
    /// session is dropped (the Java `Model` keeps its direct `ByteBuffer` referenced until
    /// `close()` frees the session).
    pub unsafe fn from_lent(ptr: *const u8, len: usize) -> Result<Self, Failure> {
        if ptr.is_null() {
            return Err(Failure::new(
                Kind::IllegalArgument,
                "the buffer has no address".into(),
            ));
        }
        if !(ptr as usize).is_multiple_of(ALIGNMENT) {
            return Err(Failure::new(
                Kind::Misaligned,
                format!(
                    "the model bytes start at address {ptr:p}, not a multiple of {ALIGNMENT}: \
                     use Model.allocateAligned(size) for the buffer, or Model.load(byte[])"
                ),
            ));
        }
        // SAFETY: non-null and, by the caller's contract, readable for `len` bytes that stay
        // alive and unchanged while the session lives; `'static` stands for that.
        let view: &'static [u8] = unsafe { core::slice::from_raw_parts(ptr, len) };
        Self::new(view, Vec::new())
    }

    fn new(bytes: &'static [u8], owned: Vec<Block>) -> Result<Self, Failure> {
        let model = Model::from_bytes(bytes).map_err(Failure::from)?;
        let arena = aligned_buffer(model.arena_len(), "arena")?;
        let fresh = (0..model.input_count())
            .map(|i| matches!(model.input(i).map(|t| t.storage), Ok(Storage::Const(_))))
            .collect();
        Ok(Session {
            model,
            arena,
            _owned_model: owned,
            fresh,
            ran: false,
            last_nanos: 0,
            pool: None,
        })
    }

    /// Number of graph inputs or outputs.
    pub fn count(&self, port: Port) -> usize {
        match port {
            Port::Input => self.model.input_count(),
            Port::Output => self.model.output_count(),
        }
    }

    /// Graph input or output `index` (a negative index from Java is out of range).
    pub fn info(&self, port: Port, index: i32) -> Result<TensorInfo<'static>, Failure> {
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        let t = match port {
            Port::Input => self.model.input(i),
            Port::Output => self.model.output(i),
        };
        t.map_err(|_| {
            Failure::new(
                Kind::NoSuchTensor,
                format!(
                    "no {} {index}: the model has {}",
                    match port {
                        Port::Input => "input",
                        Port::Output => "output",
                    },
                    self.count(port)
                ),
            )
        })
    }

    /// Arena bytes the model needs.
    pub fn arena_len(&self) -> usize {
        self.model.arena_len()
    }

    /// Runs the convolutions on `threads` threads (1 to 16; 1 is the default, the caller's
    /// thread only): each one with work enough is cut into bands of output rows
    /// (`Interpreter::with_workers`). Outputs stay the same bit for bit in int8. The thread that
    /// calls this should be the one that runs the model: it then works on bands too.
    pub fn set_threads(&mut self, threads: i32) -> Result<(), Failure> {
        let n = usize::try_from(threads)
            .ok()
            .filter(|n| (1..=16).contains(n))
            .ok_or_else(|| {
                Failure::new(
                    Kind::IllegalArgument,
                    format!("threads must be 1 to 16, not {threads}"),
                )
            })?;
        self.pool = None;
        if n > 1 {
            let pool = mote_runtime::ThreadPool::new(n).map_err(|e| {
                Failure::new(Kind::Runtime, format!("cannot start {n} threads: {e}"))
            })?;
            self.pool = Some(pool);
        }
        Ok(())
    }

    /// Threads the convolutions run on (see [`Session::set_threads`]).
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, mote_runtime::Workers::threads)
    }

    /// Nanoseconds the last successful [`Session::run`] took (0 before the first).
    pub fn last_nanos(&self) -> u64 {
        self.last_nanos
    }

    /// Lets `fill` write graph input `index` in place (exactly its bytes, native-endian); the
    /// input counts as written only when `fill` succeeds.
    pub fn fill_input<R>(
        &mut self,
        index: i32,
        fill: impl FnOnce(&TensorInfo<'static>, &mut [u8]) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let t = self.info(Port::Input, index)?;
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        self.ran = false;
        let offset = match t.storage {
            Storage::Arena { offset } => offset as usize,
            Storage::Const(_) => {
                return Err(Failure::new(
                    Kind::IllegalArgument,
                    format!("input {index} is a constant of the model"),
                ))
            }
        };
        let flag = self.fresh.get_mut(i);
        let arena = bytemuck::cast_slice_mut::<Block, u8>(&mut self.arena);
        // Validation put every arena tensor inside `arena_len()`, which the arena holds.
        let dst = offset
            .checked_add(t.byte_len as usize)
            .and_then(|end| arena.get_mut(offset..end))
            .ok_or_else(|| {
                Failure::new(
                    Kind::Internal,
                    format!("input {index} is outside the arena"),
                )
            })?;
        let out = fill(&t, dst)?;
        if let Some(f) = flag {
            *f = true;
        }
        Ok(out)
    }

    /// Checks that `len` bytes fit input or output `t` exactly.
    pub fn check_len(
        t: &TensorInfo<'_>,
        port: Port,
        index: i32,
        len: usize,
    ) -> Result<(), Failure> {
        let need = t.byte_len as usize;
        if len == need {
            return Ok(());
        }
        let what = match port {
            Port::Input => "input",
            Port::Output => "output",
        };
        Err(Failure::new(
            Kind::WrongSize,
            format!(
                "{what} {index} ('{}', {} {:?}) is {need} bytes, got {len}",
                t.name,
                dtype_name(t.dtype),
                t.shape()
            ),
        ))
    }

    /// Checks that input or output `t` has element type `want`.
    pub fn check_dtype(
        t: &TensorInfo<'_>,
        port: Port,
        index: i32,
        want: DType,
    ) -> Result<(), Failure> {
        if t.dtype == want {
            return Ok(());
        }
        let what = match port {
            Port::Input => "input",
            Port::Output => "output",
        };
        Err(Failure::new(
            Kind::WrongDType,
            format!(
                "{what} {index} ('{}') is {}, not {}",
                t.name,
                dtype_name(t.dtype),
                dtype_name(want)
            ),
        ))
    }

    /// Runs the model on the current inputs, each of which must have been written since the
    /// last run, and records how long the run took.
    pub fn run(&mut self) -> Result<(), Failure> {
        self.ran = false;
        if let Some(i) = self.fresh.iter().position(|f| !f) {
            let name = self
                .info(Port::Input, i as i32)
                .map(|t| t.name)
                .unwrap_or("?");
            return Err(Failure::new(
                Kind::InvalidState,
                format!(
                    "input {i} ('{name}') was not written since the last run (a run reuses the \
                     inputs' memory): set every input before each run"
                ),
            ));
        }
        let arena = bytemuck::cast_slice_mut::<Block, u8>(&mut self.arena);
        let mut interp = Interpreter::new(&self.model, arena).map_err(Failure::from)?;
        if let Some(pool) = &self.pool {
            interp = interp.with_workers(pool);
        }
        let start = Instant::now();
        interp.invoke().map_err(Failure::from)?;
        let nanos = start.elapsed().as_nanos();
        self.last_nanos = u64::try_from(nanos).unwrap_or(u64::MAX).max(1);
        for (i, f) in self.fresh.iter_mut().enumerate() {
            *f = matches!(
                self.model.input(i).map(|t| t.storage),
                Ok(Storage::Const(_))
            );
        }
        self.ran = true;
        Ok(())
    }

    /// The bytes of graph output `index` (its dtype, native-endian), after a successful run.
    pub fn output(&self, index: i32) -> Result<(TensorInfo<'static>, &[u8]), Failure> {
        let t = self.info(Port::Output, index)?;
        if !self.ran {
            return Err(Failure::new(
                Kind::InvalidState,
                "outputs are read before a successful run on the current inputs".into(),
            ));
        }
        let bytes: &[u8] = match t.storage {
            Storage::Const(b) => b,
            Storage::Arena { offset } => {
                let offset = offset as usize;
                let arena = bytemuck::cast_slice::<Block, u8>(&self.arena);
                offset
                    .checked_add(t.byte_len as usize)
                    .and_then(|end| arena.get(offset..end))
                    .ok_or_else(|| {
                        Failure::new(
                            Kind::Internal,
                            format!("output {index} is outside the arena"),
                        )
                    })?
            }
        };
        Ok((t, bytes))
    }
}

/// The name Java's `DType` uses.
pub fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "FLOAT32",
        DType::I8 => "INT8",
        DType::U8 => "UINT8",
        DType::I32 => "INT32",
    }
}

/// The code Java's `DType.fromCode` reads (the .mote file's codes, as in the C API).
pub fn dtype_code(d: DType) -> i32 {
    match d {
        DType::F32 => 1,
        DType::I8 => 2,
        DType::U8 => 3,
        DType::I32 => 4,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use mote_runtime::format::{AlignedBytes, ModelBuilder, OpParams};

    /// y = reshape(x): x float32 [1, 4] at arena offset 0, y [4] at offset 16.
    fn copy_model() -> Vec<u8> {
        let mut b = ModelBuilder::new();
        let x = b.add_tensor("x", DType::F32, &[1, 4], Storage::Arena { offset: 0 });
        let y = b.add_tensor("y", DType::F32, &[4], Storage::Arena { offset: 16 });
        b.add_op("copy", &OpParams::Reshape, &[x], &[y]);
        b.set_io(&[x], &[y]);
        b.set_arena_len(32);
        b.finish()
    }

    fn write(s: &mut Session, v: [f32; 4]) {
        s.fill_input(0, |t, dst| {
            Session::check_len(t, Port::Input, 0, 16)?;
            dst.copy_from_slice(bytemuck::cast_slice(&v));
            Ok(())
        })
        .unwrap();
    }

    fn read(s: &Session) -> Vec<f32> {
        s.output(0)
            .unwrap()
            .1
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn owned_and_lent_models_run_and_time() {
        let bytes = copy_model();
        let lent = AlignedBytes::from_slice(&bytes);
        let owned = Session::from_copy(&bytes).unwrap();
        // SAFETY: `lent` outlives the session, which is dropped at the end of the test.
        let lent_s = unsafe { Session::from_lent(lent.as_bytes().as_ptr(), bytes.len()) }.unwrap();
        for mut s in [owned, lent_s] {
            assert_eq!(s.count(Port::Input), 1);
            assert_eq!(s.info(Port::Output, 0).unwrap().name, "y");
            assert_eq!(s.last_nanos(), 0);
            write(&mut s, [1.0, 2.0, 3.0, 4.0]);
            s.run().unwrap();
            assert!(s.last_nanos() > 0);
            assert_eq!(read(&s), [1.0, 2.0, 3.0, 4.0]);
            write(&mut s, [-1.0, 0.5, 3.0, 4.0]);
            s.run().unwrap();
            assert_eq!(read(&s), [-1.0, 0.5, 3.0, 4.0]);
        }
    }

    #[test]
    fn threads_are_set_checked_and_run() {
        let mut s = Session::from_copy(&copy_model()).unwrap();
        assert_eq!(s.threads(), 1);
        for bad in [0, -1, 17] {
            let e = s.set_threads(bad).unwrap_err();
            assert_eq!(e.kind, Kind::IllegalArgument, "{bad}");
            assert!(e.message.contains("1 to 16"), "{}", e.message);
        }
        s.set_threads(2).unwrap();
        assert_eq!(s.threads(), 2);
        write(&mut s, [1.0, 2.0, 3.0, 4.0]);
        s.run().unwrap();
        assert_eq!(read(&s), [1.0, 2.0, 3.0, 4.0]);
        s.set_threads(1).unwrap();
        assert_eq!(s.threads(), 1);
    }

    #[test]
    fn stale_inputs_unread_outputs_and_bad_arguments_are_typed_errors() {
        let mut s = Session::from_copy(&copy_model()).unwrap();
        assert_eq!(s.output(0).unwrap_err().kind, Kind::InvalidState);
        assert_eq!(s.run().unwrap_err().kind, Kind::InvalidState);
        write(&mut s, [1.0; 4]);
        s.run().unwrap();
        // The input must be written again before the next run.
        assert_eq!(s.run().unwrap_err().kind, Kind::InvalidState);
        assert_eq!(s.output(0).unwrap_err().kind, Kind::InvalidState);
        assert_eq!(s.info(Port::Input, 1).unwrap_err().kind, Kind::NoSuchTensor);
        assert_eq!(
            s.info(Port::Output, -1).unwrap_err().kind,
            Kind::NoSuchTensor
        );
        let e = s
            .fill_input(0, |t, _| Session::check_len(t, Port::Input, 0, 3))
            .unwrap_err();
        assert_eq!(e.kind, Kind::WrongSize);
        assert!(e.message.contains("is 16 bytes, got 3"), "{}", e.message);
        // A failed write leaves the input unwritten.
        assert_eq!(s.run().unwrap_err().kind, Kind::InvalidState);
        let t = s.info(Port::Input, 0).unwrap();
        assert_eq!(
            Session::check_dtype(&t, Port::Input, 0, DType::I8)
                .unwrap_err()
                .kind,
            Kind::WrongDType
        );
    }

    #[test]
    fn damaged_foreign_and_misaligned_bytes_are_refused() {
        let bytes = copy_model();
        assert_eq!(
            Session::from_copy(b"not a model").err().unwrap().kind,
            Kind::InvalidModel
        );
        assert_eq!(
            Session::from_copy(&[]).err().unwrap().kind,
            Kind::InvalidModel
        );
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            Session::from_copy(&flipped).err().unwrap().kind,
            Kind::InvalidModel
        );
        let mut v99 = bytes.clone();
        v99[4..6].copy_from_slice(&99u16.to_le_bytes());
        assert_eq!(
            Session::from_copy(&v99).err().unwrap().kind,
            Kind::UnsupportedVersion
        );
        let shifted = AlignedBytes::from_slice(&[&[0u8][..], &bytes].concat());
        // SAFETY: `shifted` outlives the call, and the session is not kept.
        let e = unsafe { Session::from_lent(shifted.as_bytes().as_ptr().add(1), bytes.len()) };
        assert_eq!(e.err().unwrap().kind, Kind::Misaligned);
    }
}
