//! The host side of `iommugen dt` as a library: drivers interpreted from
//! checked specs, plugged into the very runtime code a kernel links, and a
//! report of what the boot flow decided. The CLI, tests, fuzzers and editor
//! tooling call it the same way:
//!
//! ```no_run
//! # fn demo(spec_text: &str, blob: &[u8]) -> Result<(), iommugen::dt::DtError> {
//! let checked = iommugen_dsl::check_source("arm-smmu.iommu", spec_text);
//! let drivers = iommugen::dt::Drivers::from_specs(checked.spec);
//! let report = iommugen::dt::run(blob, &drivers, &[])?;
//! print!("{}", report.to_human());
//! # Ok(()) }
//! ```

pub mod contexts;
pub mod driver;
pub mod dtc;
mod excerpt;
mod human;
pub mod lint;
mod messages;
pub mod platform;
mod render;
pub mod report;
mod socs;
pub mod source;
pub mod specifier;
pub mod translation;

#[cfg(test)]
mod equivalence;

pub use contexts::ContextUse;
pub use excerpt::SourceTexts;
pub use lint::lint;
pub use report::{
    run, DtError, IommuEntry, IommuStatus, MasterEntry, PciEntry, Report, RidQuery, TreeDiagnostic,
};
pub use source::{SourceLocation, SourceMap};
pub use specifier::SpecifierEntry;
pub use translation::{Reason, Translation, Untranslated};

use iommugen_dsl::ir;
use iommugen_runtime::decl::{Declaration, IommuDriver};

use driver::SpecDriver;

/// The drivers of a set of checked specs, ready for [`run`].
pub struct Drivers {
    drivers: Vec<SpecDriver>,
    /// The chip's revision (`--soc-revision`), which a tree does not
    /// record; `None`: unknown.
    soc_revision: Option<String>,
}

impl Drivers {
    pub fn new(drivers: impl IntoIterator<Item = ir::Driver>) -> Self {
        Self {
            drivers: drivers.into_iter().map(SpecDriver::new).collect(),
            soc_revision: None,
        }
    }

    /// The same drivers on a chip of a known revision (e.g. `ES2.0`, what
    /// Linux's Renesas SoC driver reads from PRR): revision-limited `deny
    /// soc` entries then match by glob as `soc_device_match` does.
    pub fn with_soc_revision(mut self, revision: Option<String>) -> Self {
        let leaked = revision.as_ref().map(|r| &*String::leak(r.clone()));
        for d in &mut self.drivers {
            d.set_soc_revision(leaked);
        }
        self.soc_revision = revision;
        self
    }

    /// The revision given to [`Self::with_soc_revision`].
    pub fn soc_revision(&self) -> Option<&str> {
        self.soc_revision.as_deref()
    }

    /// Every driver of every spec.
    /// Each spec is a family: a cache instance (`main property`) looks for
    /// its main instance among the nodes its spec's drivers claim.
    pub fn from_specs(specs: impl IntoIterator<Item = ir::Spec>) -> Self {
        let mut drivers = Vec::new();
        for spec in specs {
            let family: Vec<String> = spec
                .drivers
                .iter()
                .flat_map(|d| d.compatibles.iter().cloned())
                .collect();
            drivers.extend(
                spec.drivers
                    .into_iter()
                    .map(|d| SpecDriver::with_family(d, &family)),
            );
        }
        Self {
            drivers,
            soc_revision: None,
        }
    }

    pub fn drivers(&self) -> &[SpecDriver] {
        &self.drivers
    }

    /// One declaration row per (driver, compatible), borrowing the drivers
    /// for one run (nothing is leaked, so a long-lived caller can run many).
    fn table(&self) -> Vec<Declaration<'_>> {
        self.drivers
            .iter()
            .flat_map(|d| {
                d.ir.compatibles.iter().map(move |c| Declaration {
                    compatible: c.as_str(),
                    driver: d as &dyn IommuDriver,
                })
            })
            .collect()
    }
}
