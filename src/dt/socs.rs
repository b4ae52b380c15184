//! `deny soc "MACHINE" revision "GLOB"`: an SoC deny-list entry a device
//! tree cannot decide. Linux's `soc_device_match` compares the revision
//! the Renesas SoC driver reads from the chip (its PRR register); the tree
//! records only the machine. `iommugen dt` (like the runtime, see
//! `iommugen_runtime::master::DeniedSoc`) treats such an entry as not
//! matching, so masters attach as on the revisions it does not name, and
//! says so with `dt::W0305` whenever the tree's machine is the entry's.
//! Given the revision (`iommugen dt --soc-revision`), the interpreter
//! matches the entry's glob (`SpecDriver`, `MasterPolicy::admit_on`) and
//! there is nothing left undecided: no warning.

use iommugen_runtime::fdt::DeviceTree;
use iommugen_runtime::init::{IommuState, IommuTable};

use super::driver::SpecDriver;
use super::report::TreeDiagnostic;

pub const CODE: &str = "dt::W0305";

/// One warning per (driver, entry) for the drivers of initialised IOMMUs.
pub fn undecidable(
    tree: &DeviceTree<'_>,
    iommus: &IommuTable<'_, '_>,
    drivers: &[SpecDriver],
    soc_revision: Option<&str>,
) -> Vec<TreeDiagnostic> {
    if soc_revision.is_some() {
        return Vec::new();
    }
    let machine: Vec<&[u8]> = tree
        .root()
        .property("compatible")
        .map(|p| p.strings().collect())
        .unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for r in iommus.records() {
        let IommuState::Initialised { decl, .. } = r.state else {
            continue;
        };
        let name = decl.driver.name();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let Some(d) = drivers.iter().find(|d| d.ir.name == name) else {
            continue;
        };
        for soc in d.policy().deny {
            let Some(revision) = soc.revision else {
                continue;
            };
            if !machine.contains(&soc.machine.as_bytes()) {
                continue;
            }
            out.push(
                TreeDiagnostic::about(
                    "warning",
                    CODE,
                    "/",
                    Some("compatible"),
                    format!(
                        "/: {name} attaches no master on {} revision {revision}; a device tree does not record the chip's revision, so this report assumes another one and lets masters attach (--soc-revision gives it)",
                        soc.machine
                    ),
                )
                .help("Linux reads the revision from the chip (soc_device_match); on such a chip every master of this driver runs untranslated"),
            );
        }
    }
    out
}
