//! The `mote` binary; all logic lives in the `mote_cli` library.

fn main() -> std::process::ExitCode {
    mote_cli::main_with_args(std::env::args_os())
}
