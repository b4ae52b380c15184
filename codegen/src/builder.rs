//! The build-script API, in the style of `cc` and `prost-build`.

use std::fmt;
use std::path::{Path, PathBuf};

use iommugen_dsl::render::{Cap, HumanStyle, SourceFile};

use crate::{format_spec, module_name, Options, Origin};

/// Generates Rust modules from `.iommu` specs in a build script.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), iommugen_codegen::Error> {
///     iommugen_codegen::Builder::new().spec("drivers.iommu").generate()?;
///     Ok(())
/// }
/// // src/lib.rs:
/// // include!(concat!(env!("OUT_DIR"), "/drivers.rs"));  // defines `pub mod drivers`
/// ```
///
/// Each spec `dir/name.iommu` becomes `OUT_DIR/name.rs` holding
/// `pub mod name { ... }`. Specs are checked together (a compatible claimed
/// by two files is an error). On any error nothing is written and the
/// [`Error`] carries the same rendered report `iommugen check` prints;
/// warnings become `cargo:warning=` lines.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    specs: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    options: Options,
    cargo: Option<bool>,
}

/// Why [`Builder::generate`] failed. Its `Debug` form is the rendered
/// report, so `fn main() -> Result<(), Error>` in a build script shows the
/// diagnostics as they are.
pub enum Error {
    /// Neither [`Builder::out_dir`] nor `OUT_DIR` gave an output folder.
    NoOutDir,
    /// No spec was given.
    NoSpecs,
    /// A spec could not be read or an output not written.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// Two specs would produce the same module name.
    DuplicateModule {
        /// The module name.
        module: String,
    },
    /// The specs have errors; `report` is the rendered diagnostics.
    Spec {
        /// Errors found.
        errors: usize,
        /// Every diagnostic, rendered as by `iommugen check`.
        report: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoOutDir => f.write_str(
                "no output folder: set `Builder::out_dir` or run from a build script (OUT_DIR)",
            ),
            Error::NoSpecs => f.write_str("no spec given to iommugen_codegen::Builder"),
            Error::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Error::DuplicateModule { module } => {
                write!(
                    f,
                    "two specs would both generate module `{module}`; rename one"
                )
            }
            Error::Spec { errors, report } => write!(
                f,
                "{report}\niommugen: {errors} error{} in the specs; nothing generated",
                if *errors == 1 { "" } else { "s" }
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl Builder {
    /// A builder with no specs, default [`Options`], output to `OUT_DIR`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one spec file (relative paths are relative to the current
    /// folder, which for a build script is the package root).
    pub fn spec(mut self, path: impl AsRef<Path>) -> Self {
        self.specs.push(path.as_ref().to_path_buf());
        self
    }

    /// Add several spec files.
    pub fn specs<P: AsRef<Path>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.specs
            .extend(paths.into_iter().map(|p| p.as_ref().to_path_buf()));
        self
    }

    /// Write into `dir` instead of `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The path generated code uses for the runtime (default
    /// `::iommugen_runtime`), e.g. `::iommugen::runtime` or `crate::rt`.
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.options.runtime = path.into();
        self
    }

    /// Also register every driver in the runtime's cross-crate
    /// `IOMMU_DECLARATIONS` linker section (default: only the static
    /// `DECLARATIONS` slice).
    pub fn register(mut self, yes: bool) -> Self {
        self.options.register = yes;
        self
    }

    /// Print `cargo:` lines (`rerun-if-changed`, warnings); default: when
    /// `OUT_DIR` is set, that is, in a build script.
    pub fn cargo_metadata(mut self, yes: bool) -> Self {
        self.cargo = Some(yes);
        self
    }

    /// Check every spec, then write one module per spec. Returns the paths
    /// written, in spec order.
    pub fn generate(&self) -> Result<Vec<PathBuf>, Error> {
        let mut lines = Vec::new();
        let result = self.run(&mut lines);
        for line in lines {
            println!("{line}");
        }
        result
    }

    /// [`Builder::generate`], collecting the `cargo:` lines in `cargo_lines`.
    fn run(&self, cargo_lines: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
        let cargo = self
            .cargo
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some());
        if cargo {
            for spec in &self.specs {
                cargo_lines.push(format!("cargo:rerun-if-changed={}", spec.display()));
            }
        }
        if self.specs.is_empty() {
            return Err(Error::NoSpecs);
        }
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let mut raw = Vec::with_capacity(self.specs.len());
        for path in &self.specs {
            let bytes = std::fs::read(path).map_err(|error| Error::Io {
                path: path.clone(),
                error,
            })?;
            raw.push((path.display().to_string(), bytes));
        }
        // A file that is not UTF-8 is a located diagnostic, like any error.
        let (files, results) = iommugen_dsl::encoding::check_files(raw);
        let mut modules: Vec<String> = Vec::new();
        for (name, _) in &files {
            let module = module_name(name);
            if modules.contains(&module) {
                return Err(Error::DuplicateModule { module });
            }
            modules.push(module);
        }
        let (mut errors, mut report) = (0usize, String::new());
        // The first errors and warnings in full, the rest counted.
        let (mut shown_errors, mut shown_warnings) = (Cap::default(), Cap::default());
        for (i, checked) in &results {
            let (name, text) = &files[*i];
            let file = SourceFile::new(name, text);
            for d in &checked.diagnostics {
                if d.is_error() {
                    errors += 1;
                    if shown_errors.admit(d) {
                        report.push_str(&file.human(d, HumanStyle::default()));
                        report.push('\n');
                    }
                } else if cargo && shown_warnings.admit(d) {
                    let (line, _) = d.primary_span().map_or((1, 1), |s| file.line_col(s.start));
                    cargo_lines.push(format!(
                        "cargo:warning={name}:{line}: {} [{}]",
                        d.message, d.code
                    ));
                }
            }
        }
        if let Some(left_off) = shown_errors.summary() {
            report.push_str(&left_off);
            report.push('\n');
        }
        if let Some(left_off) = shown_warnings.summary() {
            cargo_lines.push(format!("cargo:warning={left_off}"));
        }
        if errors > 0 {
            return Err(Error::Spec { errors, report });
        }
        let mut written = Vec::with_capacity(files.len());
        for ((i, checked), module) in results.iter().zip(&modules) {
            let (name, text) = &files[*i];
            let Some(spec) = &checked.spec else {
                continue;
            };
            let origin = Origin::Spec {
                file: name,
                source: text,
            };
            let code = format_spec(name, spec, module, &origin, &self.options);
            let out = out_dir.join(format!("{module}.rs"));
            // Rewrite only on change, so dependants do not rebuild needlessly.
            if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
                std::fs::write(&out, code).map_err(|error| Error::Io {
                    path: out.clone(),
                    error,
                })?;
            }
            written.push(out);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec with an unused field: generated, with a warning line.
    const WARNS: &str = "driver d {\n    compatible \"x,y\";\n    cells 1;\n    \
        field a: u16 = cell[0][15:0];\n    field spare: u8 = 7;\n    id = a;\n    \
        page-table arm-lpae-s1 { granule 4K; ias 32; oas 40; pool 8; }\n    init crate::p;\n}\n";

    #[test]
    fn prints_rerun_lines_and_warnings_for_cargo() {
        let dir = std::env::temp_dir().join(format!("iommugen-builder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("warns.iommu");
        std::fs::write(&spec, WARNS).unwrap();
        let mut lines = Vec::new();
        let written = Builder::new()
            .spec(&spec)
            .out_dir(&dir)
            .cargo_metadata(true)
            .run(&mut lines)
            .unwrap();
        assert_eq!(written, vec![dir.join("warns.rs")]);
        assert_eq!(
            lines[0],
            format!("cargo:rerun-if-changed={}", spec.display())
        );
        // The unused field `spare` is on line 5 of the spec (other warnings
        // the checker may add are not this test's concern).
        let unused = format!("cargo:warning={}:5: ", spec.display());
        assert!(
            lines[1..]
                .iter()
                .any(|l| l.starts_with(&unused) && l.ends_with("[iommu::W0001]")),
            "{lines:?}"
        );
        assert!(lines[1..].iter().all(|l| l.starts_with("cargo:warning=")));
    }
}
