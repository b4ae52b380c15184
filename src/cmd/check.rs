//! `iommugen check` (filled in by the DSL work).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Files, or folders to search for `*.iommu` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(_args: Args) -> ExitCode {
    ExitCode::SUCCESS
}
