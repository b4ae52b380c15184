//! `iommugen fmt`: lay specs out canonically (`iommugen_dsl::format`), in
//! place, to standard output for `-`, or (`--check`) only name the files
//! that would change.
//!
//! A file with syntax errors (or that is not UTF-8) is left as it is and
//! its errors reported. Exit status: 0 when everything is formatted (or,
//! with `--check`, already was), 1 for syntax errors or, with `--check`,
//! files that would change, 2 for usage errors and files that cannot be
//! read or written.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use iommugen_dsl::encoding::{self, BOM};
use iommugen_dsl::format::format_source;
use iommugen_dsl::render::{Cap, HumanStyle, SourceFile};
use iommugen_dsl::Diagnostic;

use super::inputs::{self, Input, STDIN_NAME};
use super::output;

#[derive(clap::Args)]
pub struct Args {
    /// Change nothing: name each file that would change on stdout, exit 1 if any.
    #[arg(long)]
    pub check: bool,
    /// The name standard input (`-`) goes by in messages.
    #[arg(long, value_name = "NAME", default_value = STDIN_NAME)]
    pub stdin_filename: String,
    /// Files, folders to search for `*.iommu` files, or `-` (formatted text to stdout).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// How a run went so far; the exit status is the worst.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Clean,
    /// Syntax errors, or files `--check` would change.
    Failed,
    /// Unreadable or unwritable files.
    Usage,
}

pub fn run(args: Args) -> ExitCode {
    let found = match inputs::collect(&args.paths) {
        Ok(found) => found,
        Err(msg) => {
            output::error(msg);
            return ExitCode::from(2);
        }
    };
    let mut status = Status::Clean;
    let mut cap = Cap::default();
    for input in &found {
        let s = match one(&args, input, &mut cap) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return ExitCode::from(output::CLOSED_PIPE)
            }
            Err(e) => {
                output::error(format_args!("cannot write the output: {e}"));
                Status::Usage
            }
        };
        status = status.max(s);
    }
    if let Some(left_off) = cap.summary() {
        output::error(left_off);
    }
    ExitCode::from(match status {
        Status::Clean => 0,
        Status::Failed => 1,
        Status::Usage => 2,
    })
}

/// Formats one input; `Err` only for a failure to write standard output.
fn one(args: &Args, input: &Input, cap: &mut Cap) -> io::Result<Status> {
    let (name, bytes) = match inputs::read(input, &args.stdin_filename) {
        Ok(named) => named,
        Err(msg) => {
            output::error(msg);
            return Ok(Status::Usage);
        }
    };
    let had_bom = bytes.starts_with(BOM.as_bytes());
    // Standard input goes back unchanged when it cannot be formatted, so a
    // filter never loses text (not even bytes that are not UTF-8).
    let stdin_bytes = (*input == Input::Stdin && !args.check).then(|| bytes.clone());
    let decoded = encoding::decode(bytes);
    let (errors, formatted) = match decoded.error {
        Some(e) => (vec![e], None),
        None => {
            let f = format_source(&decoded.text);
            if !f.kept.is_empty() {
                output::error(format_args!(
                    "{name}: {} item(s) left as written: printing them would have changed \
                     their tokens (a formatter bug, please report it)",
                    f.kept.len()
                ));
            }
            (f.errors, Some(f.text))
        }
    };
    let original = || {
        let mut b = if had_bom {
            BOM.as_bytes().to_vec()
        } else {
            Vec::new()
        };
        b.extend_from_slice(decoded.text.as_bytes());
        b
    };
    let Some(text) = formatted.filter(|_| errors.iter().all(|e| !e.is_error())) else {
        report(&name, &decoded.text, &errors, cap)?;
        if let Some(bytes) = stdin_bytes {
            write_stdout(&bytes)?;
        }
        return Ok(Status::Failed);
    };
    let mut out = if had_bom {
        BOM.to_owned()
    } else {
        String::new()
    };
    out.push_str(&text);
    let changed = out.as_bytes() != original().as_slice();
    if args.check {
        if changed {
            let mut o = output::stdout();
            writeln!(o, "{name}")?;
            o.flush()?;
            return Ok(Status::Failed);
        }
        return Ok(Status::Clean);
    }
    match input {
        Input::Stdin => write_stdout(out.as_bytes())?,
        Input::File(path) if changed => {
            if let Err(e) = std::fs::write(path, out) {
                output::error(format_args!("cannot write {}: {e}", path.display()));
                return Ok(Status::Usage);
            }
        }
        Input::File(_) => {}
    }
    Ok(Status::Clean)
}

fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut o = output::stdout();
    o.write_all(bytes)?;
    o.flush()
}

/// The errors of one file, as `check` shows them, on stderr.
fn report(name: &str, text: &str, diags: &[Diagnostic], cap: &mut Cap) -> io::Result<()> {
    let file = SourceFile::new(name, text);
    let style = HumanStyle {
        color: io::stderr().is_terminal(),
        ..HumanStyle::default()
    };
    let mut err = output::stderr();
    for d in diags {
        if cap.admit(d) {
            writeln!(err, "{}", file.human(d, style))?;
        }
    }
    writeln!(err, "{name}: not formatted (syntax errors)")?;
    err.flush()
}
