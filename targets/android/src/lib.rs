//! mote for Android: the JNI library behind the Java API `dev.mote` (`java/src/dev/mote`).
//!
//! ```java
//! try (Model model = Model.load(bytes)) {          // or Model.load(directByteBuffer): no copy
//!     byte[] scores = model.run(image);             // int8 in, int8 out; float[] for float models
//!     long nanos = model.lastInferenceNanos();
//! }
//! ```
//!
//! Why it looks like this:
//! - **One Java `Model` = one [`Session`]**: the validated model and its arena, behind a `long`
//!   handle (a `Box` pointer) that the Java object owns and frees in `close()`. The Java methods
//!   are `synchronized` and zero the handle on close, so each native call has the session to
//!   itself and a closed model is a `ModelClosedException`, never a dangling pointer.
//! - **No copy of lent bytes.** `Model.load(ByteBuffer)` reads a direct buffer in place (a
//!   mapped file, say); the Java object keeps the buffer referenced until `close()`.
//!   `Model.load(byte[])` copies once into an aligned buffer the session owns (Java arrays move
//!   and have no alignment guarantee).
//! - **Typed exceptions, never a panic across JNI.** Every entry point runs inside
//!   `EnvUnowned::with_env`, which catches unwinding; [`ThrowMote`] turns a [`Failure`] into
//!   the `dev.mote` exception of its [`Kind`] and a panic into `dev.mote.InternalException`.
//! - **Inputs and outputs are copied with `Get/Set<Type>ArrayRegion`** (or from a direct
//!   buffer's memory) straight into the arena: no intermediate buffers.
//!
//! All `unsafe` in this crate is the JNI contract (the handle, direct buffer memory); each block
//! says why it is sound.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// JNI names: Java_dev_mote_Model_nLoadBytes, ...
#![allow(non_snake_case)]

pub mod failure;
pub mod session;

use failure::{Failure, Kind};
use jni::errors::ErrorPolicy;
use jni::objects::{JByteArray, JByteBuffer, JClass, JFloatArray, JIntArray, JString};
use jni::strings::JNIString;
use jni::sys::{jboolean, jfloat, jint, jlong};
use jni::{Env, EnvUnowned};
use mote_runtime::DType;
use session::{Port, Session};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The error policy of every entry point: a [`Failure`] becomes the Java exception of its kind
/// (unless a JNI call already threw one, which then wins), a panic `dev.mote.InternalException`.
/// The native method then returns 0 / null, which Java never sees because the exception is
/// pending.
#[derive(Debug)]
pub struct ThrowMote;

impl<T: Default> ErrorPolicy<T, Failure> for ThrowMote {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: Failure,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            // `throw_new` reports the thrown exception as `Err(JavaException)`: expected here.
            let _ = env.throw_new(
                JNIString::new(err.kind.class()),
                JNIString::new(&err.message),
            );
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let what = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic without a message".to_string()
        };
        // Dropping a payload may itself panic; then it is leaked rather than unwound into Java.
        if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            std::mem::forget(again);
        }
        // A panic outranks whatever a JNI call may have thrown before it.
        env.exception_clear();
        let message = format!("internal error in mote (please report it): {what}");
        let _ = env.throw_new(
            JNIString::new(Kind::Internal.class()),
            JNIString::new(message),
        );
        Ok(T::default())
    }
}

/// Runs a native method's body with the JNI environment, catching panics, and resolves its
/// outcome with [`ThrowMote`].
fn entry<'local, T: Default>(
    mut env: EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> Result<T, Failure>,
) -> T {
    env.with_env(body).resolve::<ThrowMote>()
}

/// The session behind a Java `Model`'s handle.
///
/// # Safety
/// `handle` is 0 or a value returned by a load entry point and not yet passed to `nFree`, and
/// no other native call uses it at the same time (the Java methods are `synchronized` on the
/// model and set the handle to 0 when they free it).
unsafe fn session<'a>(handle: jlong) -> Result<&'a mut Session, Failure> {
    let ptr = handle as usize as *mut Session;
    // SAFETY: 0 gives None; otherwise `ptr` came from `Box::into_raw` in `into_handle` and is
    // live and used by this call alone (the contract above).
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::new(Kind::Closed, "the model is closed".into()))
}

fn into_handle(s: Session) -> jlong {
    Box::into_raw(Box::new(s)) as usize as jlong
}

fn port(input: jboolean) -> Port {
    if input {
        Port::Input
    } else {
        Port::Output
    }
}

fn java_int(v: usize, what: &str) -> Result<jint, Failure> {
    jint::try_from(v).map_err(|_| {
        Failure::new(
            Kind::Runtime,
            format!("{what} is {v}, too large for a Java int"),
        )
    })
}

/// The memory of `len` bytes from `offset` of a direct buffer (Java passes its position and
/// remaining bytes), checked against the buffer's capacity.
fn direct_region(
    env: &Env<'_>,
    buffer: &JByteBuffer<'_>,
    offset: jint,
    len: jint,
) -> Result<(*mut u8, usize), Failure> {
    if buffer.is_null() {
        return Err(Failure::new(
            Kind::IllegalArgument,
            "the buffer is null".into(),
        ));
    }
    let base = env.get_direct_buffer_address(buffer).map_err(|_| {
        Failure::new(
            Kind::IllegalArgument,
            "not a direct ByteBuffer (use ByteBuffer.allocateDirect or Model.allocateAligned)"
                .into(),
        )
    })?;
    let capacity = env.get_direct_buffer_capacity(buffer)?;
    let (Ok(offset), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) else {
        return Err(Failure::new(
            Kind::IllegalArgument,
            "negative offset or length".into(),
        ));
    };
    match offset.checked_add(len) {
        Some(end) if end <= capacity => {}
        _ => {
            return Err(Failure::new(
                Kind::IllegalArgument,
                format!("bytes {offset}..{offset}+{len} are outside the buffer of {capacity}"),
            ))
        }
    }
    // `wrapping_add` keeps this safe code; the offset is inside the buffer (checked above).
    Ok((base.wrapping_add(offset), len))
}

/// `static native long nLoadBytes(byte[] bytes)`: copies the model, validates it, allocates
/// the arena; returns the handle.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nLoadBytes<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    bytes: JByteArray<'local>,
) -> jlong {
    entry(env, |env| {
        if bytes.is_null() {
            return Err(Failure::new(Kind::IllegalArgument, "bytes is null".into()));
        }
        let n = bytes.len(env)?;
        let s = Session::from_filled(n, |dst| {
            Ok(bytes.get_region(env, 0, bytemuck::cast_slice_mut::<u8, i8>(dst))?)
        })?;
        Ok(into_handle(s))
    })
}

/// `static native long nLoadBuffer(ByteBuffer buffer, int offset, int length)`: validates the
/// model in a direct buffer without copying it; returns the handle. The Java `Model` keeps
/// `buffer` referenced until it frees the handle.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nLoadBuffer<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    buffer: JByteBuffer<'local>,
    offset: jint,
    length: jint,
) -> jlong {
    entry(env, |env| {
        let (ptr, len) = direct_region(env, &buffer, offset, length)?;
        // SAFETY: `ptr..ptr + len` is inside the direct buffer's memory (checked by
        // `direct_region`), which does not move and stays allocated while the buffer object is
        // reachable; the Java `Model` holds it until `close()` frees the session, and documents
        // that its bytes must not change meanwhile.
        let s = unsafe { Session::from_lent(ptr, len) }?;
        Ok(into_handle(s))
    })
}

/// `static native void nFree(long handle)`: frees the session (0 is ignored).
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nFree<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    entry(env, |_| {
        if handle != 0 {
            // SAFETY: a live handle from `into_handle` (the contract of `session`); Java zeroes
            // its copy before this call, so it is freed exactly once.
            drop(unsafe { Box::from_raw(handle as usize as *mut Session) });
        }
        Ok(())
    })
}

/// `static native int nCount(long handle, boolean input)`.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nCount<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    input: jboolean,
) -> jint {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        java_int(s.count(port(input)), "the tensor count")
    })
}

/// `static native String nName(long handle, boolean input, int index)`.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nName<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    input: jboolean,
    index: jint,
) -> JString<'local> {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        let t = s.info(port(input), index)?;
        Ok(env.new_string(t.name)?)
    })
}

/// `static native int[] nInfo(long handle, boolean input, int index)`:
/// `{dtype code, byte length, quantized (0/1), zero point, rank, dims...}`.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nInfo<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    input: jboolean,
    index: jint,
) -> JIntArray<'local> {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        let t = s.info(port(input), index)?;
        let mut v = vec![
            session::dtype_code(t.dtype),
            java_int(t.byte_len as usize, "the tensor's byte length")?,
            jint::from(t.quant.is_some()),
            t.quant.map_or(0, |q| q.zero_point),
            java_int(t.shape().len(), "the rank")?,
        ];
        for &d in t.shape() {
            v.push(java_int(d as usize, "a dimension")?);
        }
        let out = env.new_int_array(v.len())?;
        out.set_region(env, 0, &v)?;
        Ok(out)
    })
}

/// `static native float nScale(long handle, boolean input, int index)`: the quantization
/// scale (0 when not quantized).
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nScale<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    input: jboolean,
    index: jint,
) -> jfloat {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        Ok(s.info(port(input), index)?.quant.map_or(0.0, |q| q.scale))
    })
}

/// `static native long nArenaSize(long handle)`.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nArenaSize<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        Ok(jlong::try_from(s.arena_len()).unwrap_or(jlong::MAX))
    })
}

/// `static native void nSetInputBytes(long handle, int index, byte[] data)`: the input's raw
/// bytes (little-endian for multi-byte types).
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nSetInputBytes<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    data: JByteArray<'local>,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        if data.is_null() {
            return Err(Failure::new(Kind::IllegalArgument, "data is null".into()));
        }
        let n = data.len(env)?;
        s.fill_input(index, |t, dst| {
            Session::check_len(t, Port::Input, index, n)?;
            Ok(data.get_region(env, 0, bytemuck::cast_slice_mut::<u8, i8>(dst))?)
        })
    })
}

/// `static native void nSetInputFloats(long handle, int index, float[] data)`: a float32 input.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nSetInputFloats<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    data: JFloatArray<'local>,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        if data.is_null() {
            return Err(Failure::new(Kind::IllegalArgument, "data is null".into()));
        }
        let n = data.len(env)?;
        s.fill_input(index, |t, dst| {
            Session::check_dtype(t, Port::Input, index, DType::F32)?;
            Session::check_len(t, Port::Input, index, n.saturating_mul(4))?;
            let floats = bytemuck::try_cast_slice_mut::<u8, f32>(dst).map_err(|_| {
                Failure::new(
                    Kind::Internal,
                    format!("input {index} is not 4-byte aligned"),
                )
            })?;
            Ok(data.get_region(env, 0, floats)?)
        })
    })
}

/// `static native void nSetInputBuffer(long handle, int index, ByteBuffer data, int offset,
/// int length)`: the input's raw bytes from a direct buffer.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nSetInputBuffer<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    data: JByteBuffer<'local>,
    offset: jint,
    length: jint,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        let (src, n) = direct_region(env, &data, offset, length)?;
        s.fill_input(index, |t, dst| {
            Session::check_len(t, Port::Input, index, n)?;
            // SAFETY: `src` is readable for `n` bytes inside the direct buffer (checked by
            // `direct_region`; the local reference `data` keeps the buffer alive for this
            // call), `dst` is `n` bytes of the session's own arena, which no Java buffer can
            // alias (it is never exposed), so the ranges do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), n) };
            Ok(())
        })
    })
}

/// `static native void nRun(long handle)`: runs the model; the time goes to `nLastNanos`.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nRun<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        s.run()
    })
}

/// `static native void nSetThreads(long handle, int threads)`: threads for the convolutions.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nSetThreads<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    threads: jint,
) {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        s.set_threads(threads)
    })
}

/// `static native long nLastNanos(long handle)`: how long the last successful run took.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nLastNanos<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    entry(env, |_| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        Ok(jlong::try_from(s.last_nanos()).unwrap_or(jlong::MAX))
    })
}

/// `static native void nGetOutputBytes(long handle, int index, byte[] dst)`: the output's raw
/// bytes; `dst.length` must be its byte length.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nGetOutputBytes<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    dst: JByteArray<'local>,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        if dst.is_null() {
            return Err(Failure::new(Kind::IllegalArgument, "dst is null".into()));
        }
        let n = dst.len(env)?;
        let (t, bytes) = s.output(index)?;
        Session::check_len(&t, Port::Output, index, n)?;
        Ok(dst.set_region(env, 0, bytemuck::cast_slice::<u8, i8>(bytes))?)
    })
}

/// `static native void nGetOutputFloats(long handle, int index, float[] dst)`: a float32
/// output; `dst.length` must be its element count.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nGetOutputFloats<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    dst: JFloatArray<'local>,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        if dst.is_null() {
            return Err(Failure::new(Kind::IllegalArgument, "dst is null".into()));
        }
        let n = dst.len(env)?;
        let (t, bytes) = s.output(index)?;
        Session::check_dtype(&t, Port::Output, index, DType::F32)?;
        Session::check_len(&t, Port::Output, index, n.saturating_mul(4))?;
        let floats = bytemuck::try_cast_slice::<u8, f32>(bytes).map_err(|_| {
            Failure::new(
                Kind::Internal,
                format!("output {index} is not 4-byte aligned"),
            )
        })?;
        Ok(dst.set_region(env, 0, floats)?)
    })
}

/// `static native void nGetOutputBuffer(long handle, int index, ByteBuffer dst, int offset,
/// int length)`: the output's raw bytes into a direct buffer.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nGetOutputBuffer<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    index: jint,
    dst: JByteBuffer<'local>,
    offset: jint,
    length: jint,
) {
    entry(env, |env| {
        // SAFETY: the Java `Model` passes its live handle, under its monitor.
        let s = unsafe { session(handle) }?;
        let (out, n) = direct_region(env, &dst, offset, length)?;
        let (t, bytes) = s.output(index)?;
        Session::check_len(&t, Port::Output, index, n)?;
        // SAFETY: `out` is writable for `n == bytes.len()` bytes inside the direct buffer
        // (checked by `direct_region`; the local reference keeps it alive for this call).
        // `bytes` is in the arena, which no Java buffer aliases, or in the model bytes: a buffer
        // lent to `Model.load` must not be written (documented), so the ranges do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), out, n) };
        Ok(())
    })
}

/// `static native long nAddress(ByteBuffer buffer)`: the address of a direct buffer's memory,
/// for `Model.allocateAligned` to find a 16-byte aligned slice.
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nAddress<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    buffer: JByteBuffer<'local>,
) -> jlong {
    entry(env, |env| {
        let (ptr, _) = direct_region(env, &buffer, 0, 0)?;
        Ok(ptr as usize as jlong)
    })
}

/// `static native String nVersion()`: the library version, e.g. "0.1.0".
#[no_mangle]
pub extern "system" fn Java_dev_mote_Model_nVersion<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    entry(env, |env| Ok(env.new_string(env!("CARGO_PKG_VERSION"))?))
}

/// `static native int panic()` of the test class `dev.mote.PanicProbe`: panics, so that the
/// tests can see the panic arrive as `dev.mote.InternalException`.
#[cfg(feature = "panic-probe")]
#[no_mangle]
pub extern "system" fn Java_dev_mote_PanicProbe_panic<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jint {
    entry(env, |_| -> Result<jint, Failure> {
        #[allow(clippy::panic)]
        {
            panic!("deliberate panic from PanicProbe")
        }
    })
}
