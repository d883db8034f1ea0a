//! One module per subcommand.

pub mod bench;
pub mod compile;
pub mod inspect;
pub mod run;
pub mod verify;
