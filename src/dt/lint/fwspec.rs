//! What one master's fwspec must hold:
//!
//! - `dt::W0318`: a master needs more IOMMU instances or IDs than the
//!   runtime's default `FwSpec` holds (`fwspec::DEFAULT_IOMMUS`,
//!   `fwspec::DEFAULT_IDS`). `iommugen dt` configures with room to spare,
//!   so the report shows the master translated; a kernel built with the
//!   default fwspec fails it (`FwSpecFull`) unless it sizes its own.
//! - `dt::W0319`: a master's `iommus` names IOMMUs of more than one
//!   driver. Linux's fwspec holds one driver's ops: `iommu_fwspec_init`
//!   refuses an IOMMU of another driver (-EINVAL), so `of_iommu_configure`
//!   fails and the master gets no IOMMU. Drivers that extend one base
//!   count as one driver (they share Linux's ops).

use iommugen_runtime::fwspec::{DEFAULT_IDS, DEFAULT_IOMMUS};

use super::super::report::{Report, TreeDiagnostic};
use super::super::Drivers;
use super::warning;

/// W0318 and W0319 for every master of the report.
pub(super) fn capacity_and_drivers(
    report: &Report,
    drivers: &Drivers,
    out: &mut Vec<TreeDiagnostic>,
) {
    for m in &report.masters {
        let iommus = m.translations.len();
        let ids: usize = m.translations.iter().map(|(_, ids)| ids.len()).sum();
        if iommus > DEFAULT_IOMMUS || ids > DEFAULT_IDS {
            out.push(warning(
                "dt::W0318",
                (&m.path, "iommus"),
                format!(
                    "{}: needs {iommus} IOMMU instance(s) and {ids} ID(s); the runtime's \
                     default fwspec holds {DEFAULT_IOMMUS} and {DEFAULT_IDS}, so a kernel \
                     using it cannot configure this master",
                    m.path
                ),
                "size the kernel's FwSpec<IDS, IOMMUS> for this board",
            ));
        }
        let mut families: Vec<(&str, &str)> = Vec::new();
        for (iommu, _) in &m.translations {
            let Some(driver) = report
                .iommus
                .iter()
                .find(|i| &i.path == iommu)
                .and_then(|i| i.driver.as_deref())
            else {
                continue;
            };
            let family = family_of(drivers, driver);
            if !families.iter().any(|&(f, _)| f == family) {
                families.push((family, iommu));
            }
        }
        if let [(first, at), (second, other), ..] = families[..] {
            out.push(warning(
                "dt::W0319",
                (&m.path, "iommus"),
                format!(
                    "{}: iommus names {at} ({first}) and {other} ({second}): Linux's fwspec \
                     holds one driver's IOMMUs and refuses the second (-EINVAL), so the \
                     master gets no IOMMU there",
                    m.path
                ),
                "a master sits behind IOMMUs of one driver only; drop the other reference",
            ));
        }
    }
}

/// The base a driver's `extends` chain ends at (the driver itself when it
/// extends nothing), bounded by the number of drivers.
fn family_of<'d>(drivers: &'d Drivers, name: &'d str) -> &'d str {
    let mut at = name;
    for _ in 0..drivers.drivers().len() {
        let Some(base) = drivers
            .drivers()
            .iter()
            .find(|d| d.ir.name == at)
            .and_then(|d| d.ir.extends.as_deref())
        else {
            break;
        };
        at = base;
    }
    at
}
