//! `iommugen generate`: check one spec and print or write its Rust module.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use iommugen_codegen::{Options, Output};
use iommugen_dsl::render::{Cap, HumanStyle, SourceFile};
use iommugen_dsl::Diagnostic;

use super::output;

#[derive(clap::Args)]
pub struct Args {
    /// The `*.iommu` spec.
    pub spec: PathBuf,
    /// Write the module here instead of to stdout (nothing is written when
    /// the spec has errors).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Path through which the generated code reaches the runtime.
    #[arg(long, default_value = "::iommugen_runtime")]
    pub runtime: String,
    /// Also register the drivers in the runtime's cross-crate linker section.
    #[arg(long)]
    pub register: bool,
}

pub fn run(args: Args) -> ExitCode {
    let name = args.spec.display().to_string();
    let decoded = match std::fs::read(&args.spec) {
        Ok(bytes) => iommugen_dsl::encoding::decode(bytes),
        Err(e) => {
            output::error(format_args!("cannot read {name}: {e}"));
            return ExitCode::from(2);
        }
    };
    let text = decoded.text;
    let options = Options {
        runtime: args.runtime.clone(),
        register: args.register,
    };
    let generated = match decoded.error {
        Some(error) => Err(vec![error]),
        None => iommugen_codegen::generate(&name, &text, &options),
    };
    output::finish(write(&args, &SourceFile::new(&name, &text), generated))
}

/// The report on standard error (the same as `iommugen check`, capped), then
/// the module on standard output or into `-o`.
fn write(
    args: &Args,
    file: &SourceFile,
    generated: Result<Output, Vec<Diagnostic>>,
) -> io::Result<ExitCode> {
    let style = HumanStyle {
        color: io::stderr().is_terminal(),
        ..HumanStyle::default()
    };
    let mut err = output::stderr();
    let mut cap = Cap::default();
    let diagnostics = match &generated {
        Ok(module) => &module.diagnostics,
        Err(diagnostics) => diagnostics,
    };
    for d in diagnostics {
        if cap.admit(d) {
            writeln!(err, "{}", file.human(d, style))?;
        }
    }
    if let Some(left_off) = cap.summary() {
        writeln!(err, "{left_off}\n")?;
    }
    let module = match generated {
        Ok(module) => module,
        Err(diagnostics) => {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            writeln!(
                err,
                "{}: {errors} error{}; nothing generated",
                file.name(),
                if errors == 1 { "" } else { "s" }
            )?;
            err.flush()?;
            return Ok(ExitCode::from(1));
        }
    };
    err.flush()?;
    match &args.output {
        None => {
            let mut out = output::stdout();
            out.write_all(module.code.as_bytes())?;
            out.flush()?;
        }
        Some(path) => {
            if let Err(e) = std::fs::write(path, &module.code) {
                output::error(format_args!("cannot write {}: {e}", path.display()));
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
