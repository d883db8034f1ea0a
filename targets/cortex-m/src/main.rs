//! mote on a bare Cortex-M: runs the model embedded at build time and reports what it took.
//!
//! The model file is `include_bytes!`-ed into flash (16-byte aligned, read in place), the arena
//! is a `static` sized at build time from the model's header, and nothing is allocated. Output
//! goes through semihosting (QEMU, or a probe such as probe-rs), in this order:
//!
//! 1. one line per graph output: its values separated by single spaces (integers for integer
//!    tensors, the shortest round-trip form for floats);
//! 2. `instructions: N` under QEMU with `-icount shift=0` (or `cycles: N` on hardware);
//! 3. `op ...` lines, one per op, with its share of the count;
//! 4. `flash: ...` and `ram: ...` footprint lines.
//!
//! Exit codes (semihosting `SYS_EXIT_EXTENDED`, which QEMU turns into its own exit status):
//! 0 success, 1 the model is invalid, 2 inference failed, 3 HardFault, 4 unexpected exception,
//! 5 two runs disagreed, 101 panic.
#![no_std]
#![no_main]

mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::peripheral::{syst::SystClkSource, DWT, SCB, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::hio;
use mote_runtime::{DType, Error, Interpreter, Model, Profiler};

// ---------------------------------------------------------------------------------------------
// The embedded model, input and arena.

/// Forces 16-byte alignment on what it wraps (the model reader and the arena require it).
#[repr(C, align(16))]
struct Aligned<T>(T);

static MODEL: Aligned<[u8; config::MODEL_BYTES]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.mote")));

static INPUT: Aligned<[u8; config::INPUT_BYTES]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/input.bin")));

/// The arena: `ARENA_BYTES` comes from the model's header at build time.
#[repr(C, align(16))]
struct Arena(UnsafeCell<[u8; config::ARENA_BYTES]>);

// SAFETY: the bytes are only reached through `take_arena`, which hands out a single `&mut`, once.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; config::ARENA_BYTES]));
static ARENA_TAKEN: AtomicBool = AtomicBool::new(false);

/// The arena, the first time it is asked for; `None` afterwards.
fn take_arena() -> Option<&'static mut [u8]> {
    if ARENA_TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: the flag above makes this the only reference ever created to ARENA's contents.
    Some(unsafe { &mut *ARENA.0.get() })
}

/// The RP2350 boot ROM starts only an image that has an IMAGE_DEF block in the first 4 KB of
/// flash: this is the datasheet's minimal one (section 5.9.5.1: an Arm, Secure, RP2350
/// executable). `memory/rp2350.x` puts `.start_block` right after the vector table.
#[cfg(feature = "rp2350")]
#[link_section = ".start_block"]
#[used]
static RP2350_IMAGE_DEF: [u32; 5] = [
    0xffff_ded3, // PICOBIN_BLOCK_MARKER_START
    0x1021_0142, // IMAGE_TYPE item, 1 word: EXE | Secure | Arm | RP2350
    0x0000_01ff, // LAST item, 1 word
    0x0000_0000, // link to self: the only block
    0xab12_3579, // PICOBIN_BLOCK_MARKER_END
];

// ---------------------------------------------------------------------------------------------
// Exiting with a status through semihosting.

/// Ends the program: QEMU exits with `code` (SYS_EXIT_EXTENDED, reason ApplicationExit).
fn exit(code: u32) -> ! {
    const SYS_EXIT_EXTENDED: usize = 0x20;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    // SAFETY: the call only reads the two-word parameter block, which outlives it.
    unsafe {
        cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "panic: {info}");
    }
    exit(101)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "HardFault: {ef:?}");
    }
    exit(3)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "unexpected exception {irqn}");
    }
    exit(4)
}

// ---------------------------------------------------------------------------------------------
// Counting: SysTick (24 bits, extended by counting wraps) or the DWT cycle counter.

const SYST_RELOAD: u32 = 0x00FF_FFFF;
static SYST_WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    SYST_WRAPS.fetch_add(1, Ordering::Relaxed);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// SysTick at the core clock: cycles on hardware; under QEMU `-icount shift=0`, virtual
    /// nanoseconds, i.e. instructions × `NS_PER_TICK`.
    SysTick,
    /// The DWT cycle counter (hardware only: QEMU reads it as 0).
    Dwt,
}

impl Clock {
    fn start(mut syst: SYST, mut dcb: cortex_m::peripheral::DCB, mut dwt: DWT) -> Clock {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(SYST_RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // After the clear, VAL reads 0 until the first tick reloads it: wait for that, or the
        // first reading would look like a full period.
        while SYST::get_current() == 0 {}
        if config::NS_PER_TICK.is_some() {
            return Clock::SysTick;
        }
        dcb.enable_trace();
        DWT::unlock();
        dwt.enable_cycle_counter();
        let c0 = DWT::cycle_count();
        for _ in 0..16 {
            cortex_m::asm::nop();
        }
        if DWT::cycle_count() != c0 {
            Clock::Dwt
        } else {
            Clock::SysTick
        }
    }

    /// The counter now, in ticks of this clock.
    #[inline(always)]
    fn now(self) -> u64 {
        match self {
            Clock::Dwt => DWT::cycle_count() as u64,
            Clock::SysTick => cortex_m::interrupt::free(|_| {
                let mut wraps = SYST_WRAPS.load(Ordering::Relaxed);
                let mut val = SYST::get_current();
                if SCB::is_pendst_pending() {
                    // A wrap the handler has not counted yet: read again, after it for sure.
                    val = SYST::get_current();
                    wraps += 1;
                }
                wraps as u64 * (SYST_RELOAD as u64 + 1) + (SYST_RELOAD - val) as u64
            }),
        }
    }

    fn elapsed(self, from: u64, to: u64) -> u64 {
        match self {
            Clock::Dwt => (to as u32).wrapping_sub(from as u32) as u64,
            Clock::SysTick => to.wrapping_sub(from),
        }
    }

    /// Ticks converted to the reported unit.
    fn scale(self, ticks: u64) -> u64 {
        match (self, config::NS_PER_TICK) {
            (Clock::SysTick, Some((n, d))) => (ticks * n + d / 2) / d,
            _ => ticks,
        }
    }

    fn unit(self) -> &'static str {
        match (self, config::NS_PER_TICK) {
            (Clock::SysTick, Some(_)) => "instructions",
            _ => "cycles",
        }
    }

    fn source(self) -> &'static str {
        match (self, config::NS_PER_TICK) {
            (Clock::SysTick, Some(_)) => "QEMU -icount shift=0, SysTick",
            (Clock::SysTick, None) => "SysTick at the core clock",
            (Clock::Dwt, _) => "DWT cycle counter",
        }
    }
}

/// Per-op counts, in execution order.
struct OpTable {
    clock: Clock,
    started: u64,
    ticks: heapless::Vec<u64, { config::OP_COUNT }>,
}

impl Profiler for OpTable {
    #[inline(always)]
    fn op_start(&mut self, _index: usize) {
        self.started = self.clock.now();
    }
    #[inline(always)]
    fn op_end(&mut self, _index: usize) {
        let t = self.clock.elapsed(self.started, self.clock.now());
        // The table holds OP_COUNT entries, one per op: a push cannot fail.
        let _ = self.ticks.push(t);
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

/// Buffers text and writes it to the host's stdout in few semihosting calls.
struct Out {
    host: Option<hio::HostStream>,
    buf: heapless::Vec<u8, 256>,
}

impl Out {
    fn new() -> Out {
        Out {
            host: hio::hstdout().ok(),
            buf: heapless::Vec::new(),
        }
    }

    fn flush(&mut self) {
        if let Some(h) = self.host.as_mut() {
            let _ = h.write_all(&self.buf);
        }
        self.buf.clear();
    }
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.buf.push(b).is_err() {
                self.flush();
                let _ = self.buf.push(b);
            }
        }
        Ok(())
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Prints one tensor's values on one line, separated by single spaces.
fn print_values(out: &mut Out, dtype: DType, bytes: &[u8]) {
    let mut first = true;
    let mut sep = |out: &mut Out| {
        if !first {
            let _ = out.write_char(' ');
        }
        first = false;
    };
    match dtype {
        DType::I8 => {
            for &b in bytes {
                sep(out);
                let _ = write!(out, "{}", b as i8);
            }
        }
        DType::U8 => {
            for &b in bytes {
                sep(out);
                let _ = write!(out, "{b}");
            }
        }
        DType::I32 => {
            for c in bytes.chunks_exact(4) {
                sep(out);
                let _ = write!(out, "{}", i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
        }
        DType::F32 => {
            for c in bytes.chunks_exact(4) {
                sep(out);
                let _ = write!(out, "{}", f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
        }
    }
    let _ = out.write_char('\n');
}

/// FNV-1a over every output, to check that two runs agree.
fn outputs_digest(interp: &Interpreter<'_, '_>, n: usize) -> Result<u32, Error> {
    let mut h: u32 = 0x811c_9dc5;
    for i in 0..n {
        for &b in interp.output(i)? {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
    }
    Ok(h)
}

// ---------------------------------------------------------------------------------------------
// Footprint, from the linker's symbols.

extern "C" {
    static __vector_table: u32;
    static __etext: u32;
    static __srodata: u32;
    static __erodata: u32;
    static __sdata: u32;
    static __edata: u32;
    static __sidata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

macro_rules! addr {
    ($sym:ident) => {
        // Only the symbol's address is taken (safe for an extern static); nothing is read.
        core::ptr::addr_of!($sym) as usize
    };
}

/// Bytes of stack used so far: cortex-m-rt's `paint-stack` filled the stack with 0xCCCCCCCC
/// before `main`; the deepest word that differs marks the high-water mark.
fn stack_high_water() -> usize {
    const PAINT: u32 = 0xCCCC_CCCC;
    let (end, start) = (addr!(_stack_end), addr!(_stack_start));
    let mut p = end;
    while p < start {
        // SAFETY: [_stack_end, _stack_start) is RAM reserved for the stack by the linker script,
        // word-aligned; a volatile read of it has no side effect.
        let w = unsafe { core::ptr::read_volatile(p as *const u32) };
        if w != PAINT {
            break;
        }
        p += 4;
    }
    start - p
}

/// `inference_stack`: the high-water mark right after the inferences, before any printing.
fn print_footprint(out: &mut Out, inference_stack: usize) {
    let vectors_and_text = addr!(__etext) - addr!(__vector_table);
    let rodata = addr!(__erodata) - addr!(__srodata);
    let data = addr!(__edata) - addr!(__sdata);
    let embedded = config::MODEL_BYTES + config::INPUT_BYTES;
    let flash_total = addr!(__sidata) + data - addr!(__vector_table);
    let code = flash_total.saturating_sub(embedded);
    let _ = writeln!(
        out,
        "flash: {flash_total} bytes = code {code} (.text {vectors_and_text}, .rodata {} without \
         the model, .data {data}) + model {} + input {}",
        rodata.saturating_sub(embedded),
        config::MODEL_BYTES,
        config::INPUT_BYTES
    );
    let bss = addr!(__ebss) - addr!(__sbss);
    let statics = data + bss;
    let whole_run = stack_high_water();
    let _ = writeln!(
        out,
        "ram: {} bytes = arena {} + other statics {} + stack high-water {inference_stack} \
         (whole run, with printing: {whole_run})",
        statics + inference_stack,
        config::ARENA_BYTES,
        statics.saturating_sub(config::ARENA_BYTES),
    );
}

// ---------------------------------------------------------------------------------------------

fn fail(what: &str, e: Error, code: u32) -> ! {
    if let Ok(mut h) = hio::hstderr() {
        let _ = writeln!(h, "error: {what}: {e}");
    }
    exit(code)
}

#[entry]
fn main() -> ! {
    let Some(cp) = cortex_m::Peripherals::take() else {
        exit(4)
    };
    let clock = Clock::start(cp.SYST, cp.DCB, cp.DWT);

    let model = match Model::from_bytes(&MODEL.0) {
        Ok(m) => m,
        Err(e) => fail("cannot load the model", e, 1),
    };
    let Some(arena) = take_arena() else { exit(4) };
    let mut interp = match Interpreter::new(&model, arena) {
        Ok(i) => i,
        Err(e) => fail("cannot bind the arena", e, 1),
    };
    let n_out = model.output_count();
    let set_inputs = |interp: &mut Interpreter<'_, '_>| -> Result<(), Error> {
        for (k, &(off, len)) in config::INPUTS.iter().enumerate() {
            let data = INPUT.0.get(off..off + len).unwrap_or(&[]);
            interp.set_input(k, data)?;
        }
        Ok(())
    };

    // Run 1: the whole inference, counted as one.
    if let Err(e) = set_inputs(&mut interp) {
        fail("cannot set the input", e, 2);
    }
    let t0 = clock.now();
    let run = interp.invoke();
    let total = clock.elapsed(t0, clock.now());
    if let Err(e) = run {
        fail("inference failed", e, 2);
    }
    let digest = match outputs_digest(&interp, n_out) {
        Ok(d) => d,
        Err(e) => fail("cannot read the outputs", e, 2),
    };

    // Run 2: the same inference, op by op.
    let mut table = OpTable {
        clock,
        started: 0,
        ticks: heapless::Vec::new(),
    };
    if let Err(e) = set_inputs(&mut interp) {
        fail("cannot set the input", e, 2);
    }
    if let Err(e) = interp.invoke_profiled(&mut table) {
        fail("inference failed", e, 2);
    }
    match outputs_digest(&interp, n_out) {
        Ok(d) if d == digest => {}
        Ok(_) => {
            if let Ok(mut h) = hio::hstderr() {
                let _ = writeln!(
                    h,
                    "error: two runs of the same input gave different outputs"
                );
            }
            exit(5)
        }
        Err(e) => fail("cannot read the outputs", e, 2),
    }

    let inference_stack = stack_high_water();

    let mut out = Out::new();
    for i in 0..n_out {
        let (t, bytes) = match (model.output(i), interp.output(i)) {
            (Ok(t), Ok(b)) => (t, b),
            (Err(e), _) | (_, Err(e)) => fail("cannot read the outputs", e, 2),
        };
        print_values(&mut out, t.dtype, bytes);
    }
    let total = clock.scale(total);
    let _ = writeln!(out, "{}: {total}", clock.unit());
    let _ = writeln!(
        out,
        "model: {} ({} ops, arena {} bytes, input {}), counted with the {}",
        config::MODEL_NAME,
        model.file().op_count(),
        config::ARENA_BYTES,
        if config::INPUT_FROM_FILE {
            "from .npy"
        } else {
            "zeros"
        },
        clock.source()
    );
    let file = model.file();
    for (i, &t) in table.ticks.iter().enumerate() {
        let n = clock.scale(t);
        let permille = (n * 1000).checked_div(total).unwrap_or(0);
        let (kind, name) = file
            .op(i)
            .map(|op| (op.params.opcode().name(), op.name))
            .unwrap_or(("?", ""));
        let _ = writeln!(
            out,
            "op {i:>3} {kind:<18} {n:>12} {:>3}.{}% {name}",
            permille / 10,
            permille % 10
        );
    }
    print_footprint(&mut out, inference_stack);
    drop(out);
    exit(0)
}
