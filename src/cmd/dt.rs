//! `iommugen dt`: a thin front end to [`iommugen::dt`]: read the specs and
//! the board, run the library, print its report.
//!
//! Exit status: 0 clean; 1 when the input is bad (spec errors, a tree that
//! is not a usable device tree or that `dtc` rejects, any IOMMU, master or
//! RID with an error, any warning under `--deny-warnings`); 2 when it could not be read at all (arguments,
//! unreadable files, `cpp` or `dtc` missing). A `.dts` is built as Linux
//! builds one (`board.rs`), and the report located in its sources.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iommugen::dt::{self, Drivers, RidQuery};
use iommugen_dsl::render::{Cap, HumanStyle, SourceFile};
use serde_json::{json, Value};

use super::output;

mod board;

/// Why the command stopped before a report: a problem to report with its
/// exit status, or its output went away (a closed pipe).
enum Stop {
    Problem { code: u8, message: String },
    Write(io::Error),
}

impl Stop {
    /// Bad input (exit 1).
    fn input(message: String) -> Self {
        Stop::Problem { code: 1, message }
    }
}

/// Could not read or run at all (exit 2).
impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Problem { code: 2, message }
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Write(e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable report per master.
    Human,
    /// One JSON object (format in the book's "The boot flow" chapter).
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Driver specs to use (default: every `examples/*.iommu`).
    #[arg(long = "spec", value_name = "FILE.iommu")]
    pub specs: Vec<PathBuf>,
    /// A PCI requester ID to configure: host bridge path `@` RID (hex with
    /// `0x`, or decimal), e.g. `/soc/pcie@3400000@0x100`.
    #[arg(long = "rid", value_name = "NODE_PATH@RID")]
    pub rids: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also look for tree mistakes the boot flow accepts (warnings
    /// dt::W0310..W0321, listed in the book's "The boot flow" chapter).
    #[arg(long)]
    pub lint: bool,
    /// The chip's revision (e.g. `ES2.0`), which a device tree does not
    /// record: `deny soc ... revision "GLOB"` entries are matched on it as
    /// Linux's soc_device_match does, instead of warning (dt::W0305).
    #[arg(long, value_name = "REV")]
    pub soc_revision: Option<String>,
    /// Exit with status 1 when there is any warning (spec, tree or lint;
    /// not dtc's own, dt::W0399).
    #[arg(long)]
    pub deny_warnings: bool,
    /// For a `.dts`: a folder the C preprocessor searches for `#include`
    /// (e.g. the kernel's `include/` for `<dt-bindings/...>`), also given
    /// to dtc for `/include/`. Repeatable, in order.
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    pub includes: Vec<PathBuf>,
    /// For a `.dts`: a macro for the C preprocessor, `NAME` or `NAME=VALUE`.
    #[arg(short = 'D', long = "define", value_name = "NAME[=VALUE]")]
    pub defines: Vec<String>,
    /// The board's device tree: a `.dtb` (no source locations), or a `.dts`
    /// built with `cpp` and `dtc` as Linux builds it (report located at
    /// its source lines).
    pub board: PathBuf,
}

fn parse_rid(arg: &str) -> Result<RidQuery, String> {
    let (host, rid) = arg
        .rsplit_once('@')
        .ok_or_else(|| format!("--rid {arg}: expected NODE_PATH@RID"))?;
    let rid = match rid.strip_prefix("0x").or_else(|| rid.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => rid.parse(),
    }
    .map_err(|_| format!("--rid {arg}: `{rid}` is not a 32-bit number (hex needs 0x)"))?;
    if !host.starts_with('/') {
        return Err(format!(
            "--rid {arg}: the host bridge path must start with `/`"
        ));
    }
    Ok(RidQuery {
        host: host.to_owned(),
        rid,
    })
}

fn default_specs() -> Result<Vec<PathBuf>, String> {
    let local = Path::new("examples");
    let dir = if local.is_dir() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "iommu"))
        .collect();
    files.sort();
    Ok(files)
}

pub fn run(args: Args) -> ExitCode {
    match run_inner(&args) {
        Ok(code) => code,
        Err(Stop::Problem { code, message }) => {
            output::error(message);
            ExitCode::from(code)
        }
        Err(Stop::Write(e)) => output::finish(Err(e)),
    }
}

fn run_inner(args: &Args) -> Result<ExitCode, Stop> {
    let rids = args
        .rids
        .iter()
        .map(|r| parse_rid(r))
        .collect::<Result<Vec<_>, _>>()?;
    let spec_paths = if args.specs.is_empty() {
        default_specs()?
    } else {
        args.specs.clone()
    };
    let mut raw = Vec::new();
    for p in &spec_paths {
        let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        raw.push((p.display().to_string(), bytes));
    }
    let (sources, checked) = iommugen_dsl::encoding::check_files(raw);
    let mut spec_diags = Vec::new();
    let mut specs = Vec::new();
    let mut spec_errors = false;
    let mut err = output::stderr();
    let mut cap = Cap::default();
    // As `iommugen check` draws them: colour only on a terminal.
    let spec_style = HumanStyle {
        color: io::stderr().is_terminal(),
        ..HumanStyle::default()
    };
    for (i, c) in checked {
        let (name, text) = &sources[i];
        let file = SourceFile::new(name, text);
        for d in &c.diagnostics {
            spec_diags.push(file.json_value(d));
            if args.format == Format::Human && cap.admit(d) {
                writeln!(err, "{}", file.human(d, spec_style))?;
            }
        }
        spec_errors |= c.has_errors();
        specs.extend(c.spec);
    }
    if let Some(left_off) = cap.summary() {
        writeln!(err, "{left_off}\n")?;
    }
    err.flush()?;
    if spec_errors {
        if args.format == Format::Json {
            print_json(&Value::Array(spec_diags))?;
        }
        return Err(Stop::input("the specs have errors; fix them first".into()));
    }
    let board = args.board.display().to_string();
    let flags = board::BuildFlags {
        includes: &args.includes,
        defines: &args.defines,
    };
    let board::Board {
        blob,
        sources,
        texts,
        dtc_warnings,
    } = board::load(&args.board, &flags)?;
    let drivers = Drivers::from_specs(specs).with_soc_revision(args.soc_revision.clone());
    let spec_names: Vec<String> = spec_paths.iter().map(|p| p.display().to_string()).collect();
    let mut report = match dt::run(&blob, &drivers, &rids) {
        Ok(report) => report,
        Err(e) => {
            let message = format!("{board}: not a usable device tree: {e}");
            if args.format == Format::Json {
                // The report's shape, empty, with the one diagnostic.
                spec_diags.push(json!({
                    "file": board, "severity": "error", "code": "dt::E0300",
                    "message": message, "help": null, "labels": [],
                }));
                print_json(&json!({
                    "specs": spec_names, "soc_revision": args.soc_revision,
                    "iommus": [], "masters": [], "pci": [],
                    "diagnostics": spec_diags,
                }))?;
            }
            return Err(Stop::input(message));
        }
    };
    report.specs = spec_names;
    if args.lint {
        // The blob was read once already; it cannot fail now, but stays a
        // value rather than a panic.
        let found = dt::lint(&blob, &drivers, &report)
            .map_err(|e| Stop::input(format!("{board}: not a usable device tree: {e}")))?;
        report.diagnostics.extend(found);
    }
    if let Some(map) = &sources {
        report.locate(map);
    }
    // dtc spoke first (it built the blob): its warnings lead the list.
    let found = std::mem::take(&mut report.diagnostics);
    report.diagnostics = dtc_warnings
        .iter()
        .map(|w| w.diagnostic(sources.as_ref()))
        .chain(found)
        .collect();
    // dtc's warnings are reported, not counted (the book says why).
    let warned = report
        .diagnostics
        .iter()
        .any(|d| d.severity == "warning" && d.code != dt::dtc::CODE)
        || spec_diags.iter().any(|d| d["severity"] == "warning");
    match args.format {
        Format::Json => print_json(&report.to_json_with(&board, spec_diags, &texts))?,
        Format::Human => {
            let style = HumanStyle {
                color: io::stdout().is_terminal(),
                ..HumanStyle::default()
            };
            let mut out = output::stdout();
            out.write_all(report.to_human_with(&texts, style).as_bytes())?;
            out.flush()?;
        }
    }
    if args.deny_warnings && warned && !report.has_errors() {
        output::error("warnings are denied (--deny-warnings)");
    }
    Ok(if report.has_errors() || (args.deny_warnings && warned) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_json(v: &Value) -> io::Result<()> {
    let mut out = output::stdout();
    serde_json::to_writer_pretty(&mut out, v).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()
}
