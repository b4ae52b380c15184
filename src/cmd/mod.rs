//! One module per subcommand.

pub mod check;
pub mod dt;
pub mod generate;
pub mod pagetable;
