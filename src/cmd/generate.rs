//! `iommugen generate`: check one spec and print or write its Rust module.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use iommugen_codegen::Options;
use iommugen_dsl::render::{self, HumanStyle};

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
            eprintln!("error: cannot read {name}: {e}");
            return ExitCode::from(2);
        }
    };
    let text = decoded.text;
    let options = Options {
        runtime: args.runtime,
        register: args.register,
    };
    let style = HumanStyle {
        color: std::io::stderr().is_terminal(),
        ..HumanStyle::default()
    };
    let generated = match decoded.error {
        Some(error) => Err(vec![error]),
        None => iommugen_codegen::generate(&name, &text, &options),
    };
    let output = match generated {
        Ok(output) => output,
        Err(diagnostics) => {
            // The same report as `iommugen check`.
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            for d in &diagnostics {
                eprintln!("{}", render::human(d, &name, &text, style));
            }
            eprintln!(
                "{name}: {errors} error{}; nothing generated",
                if errors == 1 { "" } else { "s" }
            );
            return ExitCode::from(1);
        }
    };
    for d in &output.diagnostics {
        eprintln!("{}", render::human(d, &name, &text, style));
    }
    match &args.output {
        None => print!("{}", output.code),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &output.code) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
