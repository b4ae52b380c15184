//! One module per subcommand, and the output streams they share.

pub mod check;
pub mod dt;
pub mod fmt;
pub mod generate;
pub mod inputs;
pub mod output;
pub mod pagetable;
