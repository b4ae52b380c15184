//! `iommugen`: the command-line front end. Each subcommand lives in its own
//! module under `cmd/`; this file only parses arguments and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "iommugen",
    version,
    about = "Check IOMMU driver specs and generate no_std IOMMU runtimes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check `*.iommu` specs and report problems with source spans.
    Check(cmd::check::Args),
    /// Run the boot flow on a device tree and report each master's IOMMU IDs.
    Dt(cmd::dt::Args),
    /// Lay out `*.iommu` specs canonically (or, with `--check`, name those that are not).
    Fmt(cmd::fmt::Args),
    /// Generate the no_std Rust module of a `*.iommu` spec.
    Generate(cmd::generate::Args),
    /// Serve the language over stdio (Language Server Protocol) for editors.
    Lsp,
    /// Build a spec's page table on the host, apply an op script, print every table.
    Pagetable(cmd::pagetable::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with exit 0, usage errors with 2.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Dt(args) => cmd::dt::run(args),
        Command::Fmt(args) => cmd::fmt::run(args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Lsp => match iommugen::lsp::run() {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                cmd::output::error(format!("lsp: {e}"));
                ExitCode::from(1)
            }
        },
        Command::Pagetable(args) => cmd::pagetable::run(args),
    }
}
