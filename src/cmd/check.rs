//! `iommugen check`: parse and check `*.iommu` specs, report diagnostics.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iommugen_dsl::render::{self, HumanStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette's graphical report (colour only on a terminal).
    Human,
    /// One JSON array of diagnostic objects on stdout.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors (exit 1 if there are any).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Files, or folders to search for `*.iommu` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let files = match collect(&args.paths) {
        Ok(files) => files,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    let mut raw = Vec::with_capacity(files.len());
    for path in &files {
        match std::fs::read(path) {
            Ok(bytes) => raw.push((path.display().to_string(), bytes)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let (sources, results) = iommugen_dsl::encoding::check_files(raw);
    let (mut errors, mut warnings) = (0usize, 0usize);
    for (_, checked) in &results {
        errors += checked.diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += checked.warnings();
    }
    match args.format {
        Format::Json => {
            let items = results.iter().flat_map(|(i, c)| {
                let (name, text) = &sources[*i];
                c.diagnostics
                    .iter()
                    .map(move |d| (d, name.as_str(), text.as_str()))
            });
            println!("{}", render::json_array(items));
        }
        Format::Human => {
            let style = HumanStyle {
                color: std::io::stderr().is_terminal(),
                ..HumanStyle::default()
            };
            for (i, c) in &results {
                let (name, text) = &sources[*i];
                for d in &c.diagnostics {
                    eprintln!("{}", render::human(d, name, text, style));
                }
            }
            eprintln!(
                "checked {} file{}: {errors} error{}, {warnings} warning{}",
                sources.len(),
                plural(sources.len()),
                plural(errors),
                plural(warnings)
            );
        }
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Every named file, and every `*.iommu` below each named folder (sorted).
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out).map_err(|e| format!("cannot read folder {}: {e}", p.display()))?;
            if out.len() == before {
                return Err(format!("no *.iommu files found under {}", p.display()));
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "iommu") {
            out.push(path);
        }
    }
    Ok(())
}
