//! mote's C ABI: the runtime behind a small, stable C API (`include/mote.h`).
//!
//! ```c
//! mote_model *model;
//! mote_model_load(bytes, len, &model);            // no copy: keep `bytes` alive, 16-byte aligned
//! mote_session *s;
//! mote_session_create_alloc(model, &s);           // or mote_session_create(model, arena, n, &s)
//! mote_session_set_input(s, 0, input, input_len);
//! mote_session_run(s);
//! const void *out; size_t out_len;
//! mote_session_output(s, 0, &out, &out_len);
//! mote_session_free(s);
//! mote_model_free(model);
//! ```
//!
//! Why it looks like this:
//! - **No copy of the model.** A model is read in place, as on a microcontroller: the caller
//!   lends the bytes (a mapped file, a static array, an app bundle resource) and keeps them alive
//!   and unchanged until the model and every session made from it are freed. The bytes must start
//!   at a 16-byte aligned address (the weights are aligned for SIMD loads inside the file);
//!   otherwise loading returns `MOTE_ERR_MISALIGNED`.
//! - **Validated once.** [`mote_model_load`] runs `Model::from_bytes`, which checks every
//!   offset, shape and parameter; a handle then keeps the validated `Model` view. The view
//!   borrows the caller's bytes, a borrow the C side cannot express, so it is stored as
//!   `Model<'static>` under the contract above (see the `SAFETY` notes). A session keeps its own
//!   copy of that view (it is a few words) and a raw pointer to its arena, and binds an
//!   `Interpreter` to them for the length of each call, which costs two comparisons.
//! - **Caller-lent or library-allocated arena.** [`mote_session_create`] runs in memory the
//!   caller lends (a static buffer in firmware, a pool in an app); [`mote_session_create_alloc`]
//!   allocates it, explicitly.
//! - **No global state.** Every error is a [`mote_status`] code; [`mote_error_message`] names it
//!   with a static string, and the runtime's detailed text ("input 0 needs 2560 bytes, got 4")
//!   is kept in the session ([`mote_session_last_error`]) or written to a buffer the caller
//!   passes to [`mote_model_load_with_detail`]. Distinct sessions may run on distinct threads at
//!   once; a model handle is read-only and may be shared by sessions on any thread.
//! - **Nothing unwinds into C.** Every entry point runs inside `catch_unwind`; a panic (a bug
//!   in mote) becomes `MOTE_ERR_INTERNAL`. Null pointers and out-of-range indices are status codes.
//!
//! All of mote's `unsafe` code is in this crate; each block states why it is sound.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// The exported names are C names: `mote_model`, `MOTE_OK`, ...
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::{self, Write as _};
use core::ptr;
use mote_runtime::format::Error as FormatError;
use mote_runtime::{DType, Error, Interpreter, Model, Storage, TensorInfo, ThreadPool, Workers};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Highest tensor rank: the length of `mote_tensor_info.dims`.
pub const MOTE_MAX_RANK: usize = 6;

/// Required alignment, in bytes, of the model bytes and of a caller-lent arena.
pub const MOTE_ALIGNMENT: usize = 16;

/// The result of every fallible call. `MOTE_OK` is 0; mote_error_message() names the others.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum mote_status {
    /// Success.
    MOTE_OK = 0,
    /// A required pointer argument was NULL.
    MOTE_ERR_NULL_POINTER = 1,
    /// The model bytes or the arena do not start at a 16-byte aligned address.
    MOTE_ERR_MISALIGNED = 2,
    /// The bytes are not a valid .mote model (damaged, truncated, or an inconsistent op).
    MOTE_ERR_INVALID_MODEL = 3,
    /// The model was written for another major version of the .mote format.
    MOTE_ERR_UNSUPPORTED_VERSION = 4,
    /// The arena is smaller than mote_model_arena_size().
    MOTE_ERR_ARENA_TOO_SMALL = 5,
    /// No input or output with this index.
    MOTE_ERR_BAD_INDEX = 6,
    /// Input data of the wrong byte length.
    MOTE_ERR_WRONG_SIZE = 7,
    /// A tensor was accessed with the wrong element type.
    MOTE_ERR_WRONG_DTYPE = 8,
    /// Outputs were read before a successful mote_session_run() (or after an input changed).
    MOTE_ERR_NOT_RUN = 9,
    /// No metadata entry with this key.
    MOTE_ERR_NOT_FOUND = 10,
    /// The arena could not be allocated.
    MOTE_ERR_OUT_OF_MEMORY = 11,
    /// Another runtime error; mote_session_last_error() has the details.
    MOTE_ERR_RUNTIME = 12,
    /// A bug in mote (an internal panic was caught at the API boundary).
    MOTE_ERR_INTERNAL = 13,
    /// An argument outside its documented range (e.g. a thread count outside 1..=16).
    MOTE_ERR_BAD_ARGUMENT = 14,
}

/// Element type of a tensor (the codes of the .mote file).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum mote_dtype {
    /// IEEE 754 binary32, little-endian.
    MOTE_DTYPE_F32 = 1,
    /// Signed 8-bit integer.
    MOTE_DTYPE_I8 = 2,
    /// Unsigned 8-bit integer.
    MOTE_DTYPE_U8 = 3,
    /// Signed 32-bit integer, little-endian.
    MOTE_DTYPE_I32 = 4,
}

impl From<DType> for mote_dtype {
    fn from(d: DType) -> Self {
        match d {
            DType::F32 => mote_dtype::MOTE_DTYPE_F32,
            DType::I8 => mote_dtype::MOTE_DTYPE_I8,
            DType::U8 => mote_dtype::MOTE_DTYPE_U8,
            DType::I32 => mote_dtype::MOTE_DTYPE_I32,
        }
    }
}

/// A graph input or output.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mote_tensor_info {
    /// The tensor's name, `name_len` bytes of UTF-8, NOT NUL-terminated (it points into the
    /// model bytes; print it with `printf("%.*s", (int)info.name_len, info.name)`).
    pub name: *const c_char,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// Element type.
    pub dtype: mote_dtype,
    /// Number of dimensions (0 to MOTE_MAX_RANK).
    pub rank: u32,
    /// The shape: `dims[0..rank]`; the rest are 0.
    pub dims: [u32; MOTE_MAX_RANK],
    /// Number of elements.
    pub elements: usize,
    /// Size in bytes (elements times the dtype's size): what mote_session_set_input() takes.
    pub byte_len: usize,
    /// Whether the tensor is quantized: `real = scale * (q - zero_point)`.
    pub quantized: bool,
    /// Quantization scale (0 when not quantized).
    pub scale: f32,
    /// Quantization zero point (0 when not quantized).
    pub zero_point: i32,
}

/// A validated model. Read-only: one model may serve many sessions, on any threads.
pub struct mote_model {
    /// The validated view of the caller's bytes; `'static` under the load contract (the caller
    /// keeps the bytes alive and unchanged until the model and its sessions are freed).
    model: Model<'static>,
}

/// A model bound to an arena, with its inputs, outputs and last error. Use one session from
/// one thread at a time; distinct sessions are independent.
pub struct mote_session {
    /// A copy of the model's validated view (it only borrows the caller's bytes).
    model: Model<'static>,
    /// Start of the arena: caller-lent, or `owned`'s buffer.
    arena: *mut u8,
    /// Length of the arena in bytes (at least `model.arena_len()`).
    arena_len: usize,
    /// The arena when the library allocated it (empty otherwise). Never touched after creation
    /// except to be dropped: `arena` points into its heap buffer, which does not move.
    _owned: Vec<Block>,
    /// Whether the outputs hold the result of a run on the current inputs.
    ran: bool,
    /// The last failure of a call on this session, for mote_session_last_error().
    last_error: Detail,
    /// Threads lent to the convolutions (mote_session_set_threads()); none: the calling thread.
    pool: Option<ThreadPool>,
}

/// One 16-byte aligned unit of a library-allocated arena.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Block([u8; 16]);

/// Why the last call failed, formatted only when asked for.
#[derive(Clone, Copy, Debug)]
enum Detail {
    None,
    Runtime(Error),
    Text(&'static str),
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::None => Ok(()),
            Detail::Runtime(e) => write!(f, "{e}"),
            Detail::Text(s) => f.write_str(s),
        }
    }
}

fn status_of(e: &Error) -> mote_status {
    use mote_status::*;
    match e {
        Error::Format(FormatError::Misaligned) | Error::ArenaMisaligned => MOTE_ERR_MISALIGNED,
        Error::Format(FormatError::UnsupportedVersion { .. }) => MOTE_ERR_UNSUPPORTED_VERSION,
        Error::Format(_) | Error::InvalidOp { .. } => MOTE_ERR_INVALID_MODEL,
        Error::ArenaTooSmall { .. } => MOTE_ERR_ARENA_TOO_SMALL,
        Error::NoSuchTensor { .. } => MOTE_ERR_BAD_INDEX,
        Error::WrongDType { .. } => MOTE_ERR_WRONG_DTYPE,
        Error::WrongInputSize { .. } => MOTE_ERR_WRONG_SIZE,
        _ => MOTE_ERR_RUNTIME,
    }
}

/// Runs `f`, turning a panic into `MOTE_ERR_INTERNAL`: no unwinding crosses into C.
fn guard(f: impl FnOnce() -> mote_status) -> mote_status {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(mote_status::MOTE_ERR_INTERNAL)
}

/// Runs `f`, turning a panic into `fallback`.
fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Writes `text` into `buf` like `snprintf`: at most `cap - 1` bytes and a NUL (nothing when
/// `buf` is NULL or `cap` is 0). Returns the full length of `text` in bytes.
struct CBuf {
    buf: *mut u8,
    cap: usize,
    written: usize,
    total: usize,
}

impl fmt::Write for CBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.total += s.len();
        if self.buf.is_null() || self.cap == 0 {
            return Ok(());
        }
        let room = self.cap - 1 - self.written;
        let n = s.len().min(room);
        // SAFETY: the caller of `write_detail` guarantees `buf` is writable for `cap` bytes;
        // `written + n <= cap - 1`, so the copy stays inside and leaves room for the NUL.
        unsafe { ptr::copy_nonoverlapping(s.as_ptr(), self.buf.add(self.written), n) };
        self.written += n;
        Ok(())
    }
}

/// # Safety
/// `buf` is NULL or writable for `cap` bytes.
unsafe fn write_detail(detail: &dyn fmt::Display, buf: *mut c_char, cap: usize) -> usize {
    let mut w = CBuf {
        buf: buf.cast(),
        cap,
        written: 0,
        total: 0,
    };
    let _ = write!(w, "{detail}");
    if !w.buf.is_null() && w.cap > 0 {
        // SAFETY: `written <= cap - 1` (see `write_str`), and `buf` is writable for `cap` bytes.
        unsafe { *w.buf.add(w.written) = 0 };
    }
    w.total
}

fn tensor_info(t: &TensorInfo<'_>) -> mote_tensor_info {
    const { assert!(MOTE_MAX_RANK == mote_runtime::format::MAX_RANK) };
    let mut dims = [0u32; MOTE_MAX_RANK];
    for (d, s) in dims.iter_mut().zip(t.shape()) {
        *d = *s;
    }
    let (quantized, scale, zero_point) = match t.quant {
        Some(q) => (true, q.scale, q.zero_point),
        None => (false, 0.0, 0),
    };
    mote_tensor_info {
        name: t.name.as_ptr().cast(),
        name_len: t.name.len(),
        dtype: t.dtype.into(),
        rank: t.rank as u32,
        dims,
        elements: t.elements(),
        byte_len: t.byte_len as usize,
        quantized,
        scale,
        zero_point,
    }
}

/// The library version, e.g. "0.1.0": a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn mote_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static, NUL-terminated English description of a status code (`code` is a mote_status
/// value; unknown codes get "unknown status code"). Never NULL.
#[no_mangle]
pub extern "C" fn mote_error_message(code: c_int) -> *const c_char {
    let s: &'static str = match code {
        0 => "ok\0",
        1 => "a required pointer argument was NULL\0",
        2 => "the model bytes or the arena must start at a 16-byte aligned address\0",
        3 => "invalid model: the bytes are not a valid .mote file\0",
        4 => "the model was written for an unsupported .mote format version\0",
        5 => "the arena is smaller than the model needs (see mote_model_arena_size)\0",
        6 => "no input or output with this index\0",
        7 => "input data of the wrong size\0",
        8 => "wrong element type for this tensor\0",
        9 => "outputs are read before mote_session_run succeeded on the current inputs\0",
        10 => "no metadata entry with this key\0",
        11 => "out of memory: the arena could not be allocated\0",
        12 => "runtime error (see mote_session_last_error)\0",
        13 => "internal error: a bug in mote (please report it)\0",
        14 => "an argument is outside its documented range\0",
        _ => "unknown status code\0",
    };
    s.as_ptr().cast()
}

/// Loads a model from `len` bytes at `bytes` WITHOUT copying them, validating it once.
///
/// Contract: `bytes` starts at a 16-byte aligned address (else MOTE_ERR_MISALIGNED), and the
/// caller keeps the bytes alive and unchanged until mote_model_free() and until every session
/// created from the model has been freed. On success `*out` is the model; on failure it is
/// NULL.
///
/// # Safety
/// `bytes` is readable for `len` bytes and stays so, unmodified, as stated above; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_model_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut mote_model,
) -> mote_status {
    // SAFETY: forwarded contract; no detail buffer.
    unsafe { mote_model_load_with_detail(bytes, len, out, ptr::null_mut(), 0) }
}

/// mote_model_load(), and on failure the reason in words ("model file is corrupted: checksum
/// ...") written to `detail` like snprintf: at most `detail_cap - 1` bytes plus a NUL.
/// `detail` may be NULL. On success `detail` is set to "".
///
/// # Safety
/// As mote_model_load(); `detail` is NULL or writable for `detail_cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn mote_model_load_with_detail(
    bytes: *const u8,
    len: usize,
    out: *mut *mut mote_model,
    detail: *mut c_char,
    detail_cap: usize,
) -> mote_status {
    guard(|| {
        let (status, why) = 'load: {
            if out.is_null() {
                break 'load (
                    mote_status::MOTE_ERR_NULL_POINTER,
                    Detail::Text("out is NULL"),
                );
            }
            // SAFETY: `out` is not NULL and the caller guarantees it is writable.
            unsafe { out.write(ptr::null_mut()) };
            if bytes.is_null() {
                break 'load (
                    mote_status::MOTE_ERR_NULL_POINTER,
                    Detail::Text("bytes is NULL"),
                );
            }
            if !(bytes as usize).is_multiple_of(MOTE_ALIGNMENT) {
                break 'load (
                    mote_status::MOTE_ERR_MISALIGNED,
                    Detail::Runtime(Error::Format(FormatError::Misaligned)),
                );
            }
            // SAFETY: `bytes` is non-NULL and, by the caller's contract, readable for `len`
            // bytes that stay alive and unmodified until the model and all its sessions are
            // freed. The slice's lifetime is chosen as 'static to express that contract to the
            // type system: the model handle and the sessions are the only holders of the view,
            // and the contract makes every access through them happen while the bytes live.
            let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(bytes, len) };
            match Model::from_bytes(bytes) {
                Ok(model) => {
                    let handle = Box::into_raw(Box::new(mote_model { model }));
                    // SAFETY: `out` is not NULL and writable (checked above).
                    unsafe { out.write(handle) };
                    (mote_status::MOTE_OK, Detail::None)
                }
                Err(e) => (status_of(&e), Detail::Runtime(e)),
            }
        };
        // SAFETY: the caller guarantees `detail` is NULL or writable for `detail_cap` bytes.
        unsafe { write_detail(&why, detail, detail_cap) };
        status
    })
}

/// Frees a model (NULL is ignored). Free its sessions first; the caller may release the model
/// bytes afterwards.
///
/// # Safety
/// `model` is NULL or a pointer from mote_model_load() not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mote_model_free(model: *mut mote_model) {
    if model.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `model` came from Box::into_raw in mote_model_load_with_detail and has not been
        // freed (caller contract), so it is a unique, live Box allocation.
        drop(unsafe { Box::from_raw(model) });
    }));
}

/// # Safety
/// `model` is NULL or a live pointer from mote_model_load().
unsafe fn model_ref<'a>(model: *const mote_model) -> Option<&'a mote_model> {
    // SAFETY: NULL gives None; otherwise the caller guarantees a live handle, which is only
    // read (handles are never mutated after load).
    unsafe { model.as_ref() }
}

/// Number of graph inputs (0 if `model` is NULL).
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load().
#[no_mangle]
pub unsafe extern "C" fn mote_model_input_count(model: *const mote_model) -> usize {
    // SAFETY: forwarded contract.
    guard_value(0, || {
        unsafe { model_ref(model) }.map_or(0, |m| m.model.input_count())
    })
}

/// Number of graph outputs (0 if `model` is NULL).
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load().
#[no_mangle]
pub unsafe extern "C" fn mote_model_output_count(model: *const mote_model) -> usize {
    // SAFETY: forwarded contract.
    guard_value(0, || {
        unsafe { model_ref(model) }.map_or(0, |m| m.model.output_count())
    })
}

/// Bytes of arena the model needs (0 if `model` is NULL). An arena lent to
/// mote_session_create() must be at least this long and 16-byte aligned.
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load().
#[no_mangle]
pub unsafe extern "C" fn mote_model_arena_size(model: *const mote_model) -> usize {
    // SAFETY: forwarded contract.
    guard_value(0, || {
        unsafe { model_ref(model) }.map_or(0, |m| m.model.arena_len())
    })
}

/// # Safety
/// `model` is NULL or live; `out` is NULL or writable.
unsafe fn io_info(
    model: *const mote_model,
    index: usize,
    out: *mut mote_tensor_info,
    input: bool,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { model_ref(model) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        if out.is_null() {
            return mote_status::MOTE_ERR_NULL_POINTER;
        }
        let t = if input {
            m.model.input(index)
        } else {
            m.model.output(index)
        };
        match t {
            Ok(t) => {
                // SAFETY: `out` is not NULL and the caller guarantees it is writable.
                unsafe { out.write(tensor_info(&t)) };
                mote_status::MOTE_OK
            }
            Err(e) => status_of(&e),
        }
    })
}

/// Describes graph input `index` (name, dtype, shape, byte length, quantization) into `*out`.
/// The name points into the model bytes.
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load(); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_model_input_info(
    model: *const mote_model,
    index: usize,
    out: *mut mote_tensor_info,
) -> mote_status {
    // SAFETY: forwarded contract.
    unsafe { io_info(model, index, out, true) }
}

/// Describes graph output `index` into `*out`, as mote_model_input_info().
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load(); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_model_output_info(
    model: *const mote_model,
    index: usize,
    out: *mut mote_tensor_info,
) -> mote_status {
    // SAFETY: forwarded contract.
    unsafe { io_info(model, index, out, false) }
}

/// Looks up the metadata entry `key` (a NUL-terminated string, e.g. "labels" or "image.size")
/// and points `*value` / `*value_len` at its UTF-8 bytes inside the model (NOT NUL-terminated).
/// MOTE_ERR_NOT_FOUND when the model has no such entry.
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load(); `key` is NULL or a NUL-terminated
/// string; `value` and `value_len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_model_metadata(
    model: *const mote_model,
    key: *const c_char,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { model_ref(model) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        if key.is_null() || value.is_null() || value_len.is_null() {
            return mote_status::MOTE_ERR_NULL_POINTER;
        }
        // SAFETY: `key` is not NULL and the caller guarantees a NUL-terminated string.
        let key = unsafe { CStr::from_ptr(key) };
        let found = key.to_str().ok().and_then(|k| m.model.file().meta(k));
        let Some(v) = found else {
            return mote_status::MOTE_ERR_NOT_FOUND;
        };
        // SAFETY: both are non-NULL and writable (caller contract).
        unsafe {
            value.write(v.as_ptr().cast());
            value_len.write(v.len());
        }
        mote_status::MOTE_OK
    })
}

fn new_session(
    model: Model<'static>,
    arena: *mut u8,
    arena_len: usize,
    owned: Vec<Block>,
) -> *mut mote_session {
    Box::into_raw(Box::new(mote_session {
        model,
        arena,
        arena_len,
        _owned: owned,
        ran: false,
        last_error: Detail::None,
        pool: None,
    }))
}

/// Creates a session that runs `model` in `arena_len` bytes at `arena`, lent by the caller.
///
/// Contract: `arena` starts 16-byte aligned (else MOTE_ERR_MISALIGNED) and holds at least
/// mote_model_arena_size() bytes (else MOTE_ERR_ARENA_TOO_SMALL); the caller keeps it alive and
/// does not otherwise use it (except through mote_session_input_ptr()) until
/// mote_session_free(); it must not overlap the model bytes or another session's arena.
/// On failure `*out` is NULL.
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load(); `arena` is NULL or readable and
/// writable for `arena_len` bytes under the contract above; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_session_create(
    model: *const mote_model,
    arena: *mut c_void,
    arena_len: usize,
    out: *mut *mut mote_session,
) -> mote_status {
    guard(|| {
        if out.is_null() {
            return mote_status::MOTE_ERR_NULL_POINTER;
        }
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { model_ref(model) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        if arena.is_null() {
            return mote_status::MOTE_ERR_NULL_POINTER;
        }
        if !(arena as usize).is_multiple_of(MOTE_ALIGNMENT) {
            return mote_status::MOTE_ERR_MISALIGNED;
        }
        if arena_len < m.model.arena_len() {
            return mote_status::MOTE_ERR_ARENA_TOO_SMALL;
        }
        let s = new_session(m.model, arena.cast(), arena_len, Vec::new());
        // SAFETY: `out` is not NULL and writable.
        unsafe { out.write(s) };
        mote_status::MOTE_OK
    })
}

/// Creates a session with an arena of mote_model_arena_size() bytes allocated (zeroed, 16-byte
/// aligned) by the library and released by mote_session_free(). On failure `*out` is NULL.
///
/// # Safety
/// `model` is NULL or a live pointer from mote_model_load(); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mote_session_create_alloc(
    model: *const mote_model,
    out: *mut *mut mote_session,
) -> mote_status {
    guard(|| {
        if out.is_null() {
            return mote_status::MOTE_ERR_NULL_POINTER;
        }
        // SAFETY: `out` is not NULL and writable (caller contract).
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { model_ref(model) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        let len = m.model.arena_len();
        let blocks = len.div_ceil(16);
        let mut owned: Vec<Block> = Vec::new();
        if owned.try_reserve_exact(blocks).is_err() {
            return mote_status::MOTE_ERR_OUT_OF_MEMORY;
        }
        owned.resize(blocks, Block([0; 16]));
        // `as_mut_ptr` creates no reference, so the pointer stays valid while `owned` lives and
        // is not touched again; moving the Vec into the session does not move its buffer.
        let arena = owned.as_mut_ptr().cast::<u8>();
        let s = new_session(m.model, arena, blocks * 16, owned);
        // SAFETY: `out` is not NULL and writable.
        unsafe { out.write(s) };
        mote_status::MOTE_OK
    })
}

/// Frees a session (NULL is ignored), and its arena if the library allocated it. A lent arena
/// is the caller's again.
///
/// # Safety
/// `session` is NULL or a pointer from mote_session_create*() not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mote_session_free(session: *mut mote_session) {
    if session.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `session` came from Box::into_raw in new_session and has not been freed
        // (caller contract), so it is a unique, live Box allocation.
        drop(unsafe { Box::from_raw(session) });
    }));
}

impl mote_session {
    /// Byte range of graph input or output `index` in the arena, or the constant's bytes.
    fn place(&self, index: usize, input: bool) -> Result<Place, Error> {
        let t = if input {
            self.model.input(index)?
        } else {
            self.model.output(index)?
        };
        match t.storage {
            Storage::Const(b) => Ok(Place::Const(b)),
            Storage::Arena { offset } => {
                let start = offset as usize;
                let len = t.byte_len as usize;
                // Validation put every arena tensor inside `arena_len()`, which the arena holds;
                // checked again because the pointer arithmetic below relies on it.
                match start.checked_add(len) {
                    Some(end) if end <= self.arena_len => Ok(Place::Arena { start, len }),
                    _ => Err(Error::ArenaTooSmall {
                        needed: self.model.arena_len(),
                        given: self.arena_len,
                    }),
                }
            }
        }
    }

    fn fail(&mut self, e: Error) -> mote_status {
        self.last_error = Detail::Runtime(e);
        status_of(&e)
    }

    fn fail_text(&mut self, status: mote_status, text: &'static str) -> mote_status {
        self.last_error = Detail::Text(text);
        status
    }
}

enum Place {
    Const(&'static [u8]),
    Arena { start: usize, len: usize },
}

/// # Safety
/// `session` is NULL or a live pointer from mote_session_create*(), not in use by another call.
unsafe fn session_mut<'a>(session: *mut mote_session) -> Option<&'a mut mote_session> {
    // SAFETY: NULL gives None; otherwise the caller guarantees a live session that no other
    // call is using (one thread at a time), so a unique reference for this call is sound.
    unsafe { session.as_mut() }
}

/// Copies `len` bytes from `data` into graph input `index` (the input's dtype, little-endian,
/// row-major: exactly mote_tensor_info.byte_len bytes, else MOTE_ERR_WRONG_SIZE). Write every
/// input before each mote_session_run(): a run may reuse the inputs' memory.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently; `data` is NULL or readable for
/// `len` bytes (it may point into the session's own input, e.g. from mote_session_input_ptr()).
#[no_mangle]
pub unsafe extern "C" fn mote_session_set_input(
    session: *mut mote_session,
    index: usize,
    data: *const c_void,
    len: usize,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(s) = (unsafe { session_mut(session) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        s.ran = false;
        if data.is_null() {
            return s.fail_text(mote_status::MOTE_ERR_NULL_POINTER, "data is NULL");
        }
        let (start, n) = match s.place(index, true) {
            Ok(Place::Arena { start, len }) => (start, len),
            Ok(Place::Const(_)) => {
                return s.fail_text(
                    mote_status::MOTE_ERR_BAD_INDEX,
                    "this input is a constant of the model",
                )
            }
            Err(e) => return s.fail(e),
        };
        if len != n {
            return s.fail(Error::WrongInputSize {
                index,
                expected: n,
                found: len,
            });
        }
        // SAFETY: `data` is readable for `len == n` bytes (caller contract); the destination
        // `arena[start..start + n]` is inside the arena (checked by `place`), which the session
        // may write. `ptr::copy` allows the two to overlap.
        unsafe { ptr::copy(data.cast::<u8>(), s.arena.add(start), n) };
        s.last_error = Detail::None;
        mote_status::MOTE_OK
    })
}

/// Points `*data` / `*len` at graph input `index` inside the arena, to be filled in place
/// (zero-copy) before mote_session_run(). The pointer stays valid until mote_session_free();
/// do not write through it while another call on this session is running.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently; `data` and `len` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mote_session_input_ptr(
    session: *mut mote_session,
    index: usize,
    data: *mut *mut c_void,
    len: *mut usize,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(s) = (unsafe { session_mut(session) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        s.ran = false;
        if data.is_null() || len.is_null() {
            return s.fail_text(mote_status::MOTE_ERR_NULL_POINTER, "data or len is NULL");
        }
        match s.place(index, true) {
            Ok(Place::Arena { start, len: n }) => {
                // SAFETY: `start + n <= arena_len` (checked by `place`), so the pointer is inside
                // the arena. It is derived from the arena's base raw pointer, not from a
                // reference, so later calls that reborrow the arena do not invalidate it.
                // `data` and `len` are writable (caller contract).
                unsafe {
                    data.write(s.arena.add(start).cast());
                    len.write(n);
                }
                s.last_error = Detail::None;
                mote_status::MOTE_OK
            }
            Ok(Place::Const(_)) => s.fail_text(
                mote_status::MOTE_ERR_BAD_INDEX,
                "this input is a constant of the model",
            ),
            Err(e) => s.fail(e),
        }
    })
}

/// Runs the model on the current inputs. On failure, mote_session_last_error() says why.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn mote_session_run(session: *mut mote_session) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(s) = (unsafe { session_mut(session) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        s.ran = false;
        // SAFETY: `arena` is valid for reads and writes of `arena_len` bytes for the session's
        // life (lent under mote_session_create's contract, or owned by the session), nothing
        // else accesses it during this call (the caller does not write through input pointers
        // while a call runs, and the model bytes never overlap it), so a unique slice for the
        // length of this call is sound.
        let arena = unsafe { core::slice::from_raw_parts_mut(s.arena, s.arena_len) };
        let pool = s.pool.as_ref().map(|p| p as &dyn Workers);
        let result = Interpreter::new(&s.model, arena).and_then(|i| match pool {
            Some(p) => i.with_workers(p).invoke(),
            None => {
                let mut i = i;
                i.invoke()
            }
        });
        match result {
            Ok(()) => {
                s.ran = true;
                s.last_error = Detail::None;
                mote_status::MOTE_OK
            }
            Err(e) => s.fail(e),
        }
    })
}

/// Runs the session's convolutions on `threads` threads (1 to 16; 1, the default, runs
/// everything on the thread that calls mote_session_run()). Each convolution with work enough
/// is cut into bands of output rows run by a pool of `threads - 1` threads the session starts
/// here (and stops when it is freed or set again) plus the calling thread; int8 outputs stay
/// the same bit for bit, f32 ones within rounding. Small models (the MLPerf Tiny ones) run
/// whole: their layers are below the size where cutting pays. Call it from the thread that will
/// run the session. MOTE_ERR_BAD_ARGUMENT outside 1..=16 (the session keeps its threads);
/// MOTE_ERR_RUNTIME when the threads cannot be started (the session then runs on one).
///
/// # Safety
/// `session` is NULL or a live session not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn mote_session_set_threads(
    session: *mut mote_session,
    threads: c_int,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(s) = (unsafe { session_mut(session) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        let Some(n) = usize::try_from(threads)
            .ok()
            .filter(|n| (1..=16).contains(n))
        else {
            return s.fail_text(
                mote_status::MOTE_ERR_BAD_ARGUMENT,
                "threads must be 1 to 16",
            );
        };
        s.pool = None;
        if n > 1 {
            match ThreadPool::new(n) {
                Ok(pool) => s.pool = Some(pool),
                Err(_) => {
                    return s.fail_text(
                        mote_status::MOTE_ERR_RUNTIME,
                        "the threads could not be started",
                    )
                }
            }
        }
        mote_status::MOTE_OK
    })
}

/// The threads the session's convolutions run on (1 unless mote_session_set_threads() set
/// more); 0 for NULL.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn mote_session_threads(session: *const mote_session) -> c_int {
    guard_value(0, || {
        // SAFETY: NULL gives None; otherwise a live session (caller contract).
        let Some(s) = (unsafe { session.as_ref() }) else {
            return 0;
        };
        s.pool
            .as_ref()
            .map_or(1, |p| c_int::try_from(p.threads()).unwrap_or(c_int::MAX))
    })
}

/// Points `*data` / `*len` at graph output `index` (its dtype, little-endian, row-major; see
/// mote_model_output_info()). Valid after a successful mote_session_run() and until the next
/// call that changes an input or runs, or mote_session_free(); MOTE_ERR_NOT_RUN before.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently; `data` and `len` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mote_session_output(
    session: *mut mote_session,
    index: usize,
    data: *mut *const c_void,
    len: *mut usize,
) -> mote_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(s) = (unsafe { session_mut(session) }) else {
            return mote_status::MOTE_ERR_NULL_POINTER;
        };
        if data.is_null() || len.is_null() {
            return s.fail_text(mote_status::MOTE_ERR_NULL_POINTER, "data or len is NULL");
        }
        let place = match s.place(index, false) {
            Ok(p) => p,
            Err(e) => return s.fail(e),
        };
        if !s.ran {
            return s.fail_text(
                mote_status::MOTE_ERR_NOT_RUN,
                "no successful mote_session_run on the current inputs",
            );
        }
        let (p, n): (*const u8, usize) = match place {
            Place::Const(b) => (b.as_ptr(), b.len()),
            // SAFETY: `start + len <= arena_len` (checked by `place`): inside the arena.
            Place::Arena { start, len } => (unsafe { s.arena.add(start) }, len),
        };
        // SAFETY: `data` and `len` are writable (caller contract).
        unsafe {
            data.write(p.cast());
            len.write(n);
        }
        mote_status::MOTE_OK
    })
}

/// Writes the reason for the last failed call on `session` (the runtime's message, e.g. "input
/// 0 needs 2560 bytes, got 4 (check the shape and dtype)") into `buf` like snprintf: at most
/// `cap - 1` bytes plus a NUL; "" after a success. Returns the message's full length, so a
/// call with `buf` NULL and `cap` 0 measures it. Returns 0 if `session` is NULL.
///
/// # Safety
/// `session` is NULL or a live session not used concurrently; `buf` is NULL or writable for
/// `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn mote_session_last_error(
    session: *const mote_session,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: NULL gives None; otherwise a live session (caller contract), only read here.
        let Some(s) = (unsafe { session.as_ref() }) else {
            return 0;
        };
        // SAFETY: `buf` is NULL or writable for `cap` bytes (caller contract).
        unsafe { write_detail(&s.last_error, buf, cap) }
    })
}

/// A tiny model, small enough for Miri (`cargo +nightly miri test -p mote-c --lib`), which
/// checks the pointer handling above against Rust's aliasing rules.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::mote_status::*;
    use super::*;
    use mote_runtime::format::{AlignedBytes, ModelBuilder, OpParams};

    /// y = reshape(x): x float32 [1, 4] at arena offset 0, y [4] at offset 16.
    fn copy_model() -> AlignedBytes {
        let mut b = ModelBuilder::new();
        let x = b.add_tensor("x", DType::F32, &[1, 4], Storage::Arena { offset: 0 });
        let y = b.add_tensor("y", DType::F32, &[4], Storage::Arena { offset: 16 });
        b.add_op("copy", &OpParams::Reshape, &[x], &[y]);
        b.set_io(&[x], &[y]);
        b.set_arena_len(32);
        AlignedBytes::from_slice(&b.finish())
    }

    fn output(s: *mut mote_session) -> Vec<f32> {
        let (mut p, mut n) = (ptr::null(), 0usize);
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_output(s, 0, &mut p, &mut n) },
            MOTE_OK
        );
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        let b = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) };
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    #[test]
    fn lent_and_allocated_arenas_input_in_place_and_copied() {
        let bytes = copy_model();
        let mut m = ptr::null_mut();
        let b = bytes.as_bytes();
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_model_load(b.as_ptr(), b.len(), &mut m) },
            MOTE_OK
        );
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_model_arena_size(m) }, 32);

        let mut arena = AlignedBytes::zeroed(32);
        let mut s = ptr::null_mut();
        let base = arena.as_bytes_mut().as_mut_ptr();
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_create(m, base.cast(), 32, &mut s) },
            MOTE_OK
        );
        // In place, through the pointer; then run twice, writing through it in between.
        let (mut dst, mut n) = (ptr::null_mut(), 0usize);
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_input_ptr(s, 0, &mut dst, &mut n) },
            MOTE_OK
        );
        assert_eq!(n, 16);
        let x: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { ptr::copy_nonoverlapping(x.as_ptr(), dst.cast::<u8>(), n) };
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
        assert_eq!(output(s), [1.0, 2.0, 3.0, 4.0]);
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { *dst.cast::<u8>().add(3) ^= 0x80 }; // x[0] = -1
                                                     // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
        assert_eq!(output(s), [-1.0, 2.0, 3.0, 4.0]);
        // Copied from the input's own memory (overlapping), and from outside.
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_set_input(s, 0, dst, n) }, MOTE_OK);
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
        assert_eq!(output(s), [-1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_set_input(s, 0, x.as_ptr().cast(), 16) },
            MOTE_OK
        );
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
        assert_eq!(output(s), [1.0, 2.0, 3.0, 4.0]);
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe { mote_session_free(s) };

        let mut s = ptr::null_mut();
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_create_alloc(m, &mut s) }, MOTE_OK);
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_set_input(s, 0, x.as_ptr().cast(), 16) },
            MOTE_OK
        );
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        assert_eq!(unsafe { mote_session_run(s) }, MOTE_OK);
        assert_eq!(output(s), [1.0, 2.0, 3.0, 4.0]);
        let mut msg = [0 as c_char; 64];
        assert_eq!(
            // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
            unsafe { mote_session_set_input(s, 0, x.as_ptr().cast(), 3) },
            MOTE_ERR_WRONG_SIZE
        );
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        let n = unsafe { mote_session_last_error(s, msg.as_mut_ptr(), msg.len()) };
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        let text = unsafe { CStr::from_ptr(msg.as_ptr()) }.to_str().unwrap();
        assert_eq!(text.len(), 63.min(n));
        assert!(text.starts_with("input 0 needs 16 bytes, got 3"), "{text}");
        // SAFETY: test code calling the C ABI as a C caller would: the handles are live (created above, freed last) and every pointer/length pair names a buffer of this test of at least that length.
        unsafe {
            mote_session_free(s);
            mote_model_free(m);
        }
    }
}
