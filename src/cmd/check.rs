//! `iommugen check`: parse and check `*.iommu` specs, report diagnostics.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use iommugen_dsl::render::{self, Cap, HumanStyle, SourceFile};
use iommugen_dsl::Diagnostic;

use super::inputs::{self, STDIN_NAME};
use super::output;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette's graphical report (colour only on a terminal).
    Human,
    /// One JSON array of diagnostic objects on stdout.
    Json,
    /// One line per diagnostic on stderr, `FILE:LINE:COL: SEVERITY[CODE]: MESSAGE`
    /// (what editors' quickfix and compile modes read), every diagnostic.
    Short,
}

#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors (exit 1 if there are any).
    #[arg(long)]
    pub deny_warnings: bool,
    /// The name standard input (`-`) goes by in messages.
    #[arg(long, value_name = "NAME", default_value = STDIN_NAME)]
    pub stdin_filename: String,
    /// Files, folders to search for `*.iommu` files, or `-` for standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let found = match inputs::collect(&args.paths) {
        Ok(files) => files,
        Err(msg) => {
            output::error(msg);
            return ExitCode::from(2);
        }
    };
    let mut raw = Vec::with_capacity(found.len());
    for input in &found {
        match inputs::read(input, &args.stdin_filename) {
            Ok(named) => raw.push(named),
            Err(msg) => {
                output::error(msg);
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
        // Every diagnostic, as JSON gives them all: tools read these.
        Format::Short => {
            let mut err = output::stderr();
            for (d, f) in each() {
                writeln!(err, "{}", f.short(d))?;
            }
            err.flush()?;
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
