//! Sets `cfg(mote_arm_dsp)` when building for a Cortex-M core with Arm's DSP extension, so the
//! `arm_dsp` kernels run their instructions through `asm!` and are picked by the dispatcher.
//!
//! Stable rustc does not report `target_feature = "dsp"`, so the choice is made from the target
//! name: `thumbv7em-*` (Cortex-M4/M7) and `thumbv8m.main-*` (Cortex-M33/M35P/M55/M85; the DSP
//! extension is optional on the M33, present on every part the project targets). Setting
//! `MOTE_NO_ARM_DSP=1` in the build environment turns it off (for a Cortex-M33 without DSP, or to
//! measure the portable kernels on the same core).
fn main() {
    println!("cargo:rustc-check-cfg=cfg(mote_arm_dsp)");
    println!("cargo:rerun-if-env-changed=MOTE_NO_ARM_DSP");
    let target = std::env::var("TARGET").unwrap_or_default();
    let off = std::env::var("MOTE_NO_ARM_DSP").is_ok_and(|v| !v.is_empty() && v != "0");
    if !off && (target.starts_with("thumbv7em") || target.starts_with("thumbv8m.main")) {
        println!("cargo:rustc-cfg=mote_arm_dsp");
    }
}
