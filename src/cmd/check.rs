//! `iommugen check`: parse and check `*.iommu` specs, report diagnostics.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iommugen_dsl::render::{self, Cap, HumanStyle, SourceFile};
use iommugen_dsl::Diagnostic;

use super::output;

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
            output::error(msg);
            return ExitCode::from(2);
        }
    };
    let mut raw = Vec::with_capacity(files.len());
    for path in &files {
        match std::fs::read(path) {
            Ok(bytes) => raw.push((path.display().to_string(), bytes)),
            Err(e) => {
                output::error(format_args!("cannot read {}: {e}", path.display()));
                return ExitCode::from(2);
            }
        }
    }
    // Only diagnostics: no IR is kept (a file of 10^6 drivers needs no copy).
    let (sources, results) = iommugen_dsl::encoding::diagnose_files(raw);
    output::finish(report(&args, &sources, &results))
}

/// Writes the report; the status counts every diagnostic, shown or not.
fn report(
    args: &Args,
    sources: &[(String, String)],
    results: &[(usize, Vec<Diagnostic>)],
) -> io::Result<ExitCode> {
    let (mut errors, mut warnings) = (0usize, 0usize);
    for (_, diagnostics) in results {
        let e = diagnostics.iter().filter(|d| d.is_error()).count();
        errors += e;
        warnings += diagnostics.len() - e;
    }
    // One line index per file that has something to report.
    let files: Vec<Option<SourceFile>> = results
        .iter()
        .map(|(i, diagnostics)| {
            let (name, text) = &sources[*i];
            (!diagnostics.is_empty()).then(|| SourceFile::new(name, text))
        })
        .collect();
    let each = || {
        results
            .iter()
            .zip(&files)
            .flat_map(|((_, diagnostics), f)| {
                f.iter()
                    .flat_map(move |f| diagnostics.iter().map(move |d| (d, f)))
            })
    };
    match args.format {
        Format::Json => {
            let mut out = output::stdout();
            render::write_json_array(&mut out, each())?;
            writeln!(out)?;
            out.flush()?;
        }
        Format::Human => {
            let style = HumanStyle {
                color: io::stderr().is_terminal(),
                ..HumanStyle::default()
            };
            let mut err = output::stderr();
            let mut cap = Cap::default();
            for (d, f) in each() {
                if cap.admit(d) {
                    writeln!(err, "{}", f.human(d, style))?;
                }
            }
            if let Some(left_off) = cap.summary() {
                writeln!(err, "{left_off}\n")?;
            }
            writeln!(
                err,
                "checked {} file{}: {errors} error{}, {warnings} warning{}",
                sources.len(),
                plural(sources.len()),
                plural(errors),
                plural(warnings)
            )?;
            err.flush()?;
        }
    }
    Ok(if errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
