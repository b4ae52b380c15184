//! The report's sentences: driver and configuration errors named with
//! the spec's own field and check text, and what Linux does next.

use iommugen_runtime::boot::MasterError;
use iommugen_runtime::configure::{ConfigureError, Configured};
use iommugen_runtime::decl::DriverError;
use iommugen_runtime::fdt::{DeviceTree, Node, NodeId};
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::master::Refusal;
use iommugen_runtime::ops::SetupError;
use iommugen_runtime::probe::ProbeRefusal;

use super::driver::SpecDriver;
use super::report::path_of;
use super::translation::Translation;

pub fn compatible_list(node: Node<'_>) -> String {
    let list: Vec<String> = node
        .property("compatible")
        .map(|p| {
            p.strings()
                .map(|s| format!("\"{}\"", String::from_utf8_lossy(s)))
                .collect()
        })
        .unwrap_or_default();
    if list.is_empty() {
        "(none)".into()
    } else {
        list.join(", ")
    }
}

pub fn driver_error(error: DriverError, driver: &str, drivers: &[SpecDriver]) -> String {
    let spec = drivers.iter().find(|d| d.ir.name == driver);
    match error {
        DriverError::CheckFailed { check } => match spec.and_then(|d| d.check_text(check)) {
            Some(text) => format!("{driver}: check `{text}` failed"),
            None => format!("{driver}: {error}"),
        },
        DriverError::MissingField { field } => match spec.and_then(|d| d.field_name(field)) {
            Some(name) => format!("{driver}: field `{name}` has no value"),
            None => format!("{driver}: {error}"),
        },
        _ => format!("{driver}: {error}"),
    }
}

pub fn master_error(
    e: MasterError,
    tree: &DeviceTree<'_>,
    iommus: &IommuTable<'_, '_>,
    drivers: &[SpecDriver],
) -> String {
    let name = |n: NodeId| tree.node(n).map(path_of).unwrap_or_default();
    match e {
        MasterError::Configure(ConfigureError::Driver { entry, node, error }) => {
            let driver = match iommus.get(node).map(|r| r.state) {
                Some(IommuState::Initialised { decl, .. }) => decl.driver.name(),
                _ => "?",
            };
            format!(
                "iommus entry {entry} ({}): {}",
                name(node),
                driver_error(error, driver, drivers)
            )
        }
        MasterError::Configure(ConfigureError::NotInitialised { node }) => {
            let why = match iommus.get(node).map(|r| r.state) {
                Some(IommuState::Unclaimed) => "no spec claims it",
                Some(IommuState::Failed { .. }) => "its driver failed to initialise it",
                _ => "no driver initialised it",
            };
            format!(
                "IOMMU {} not initialised: {why} (Linux would defer the probe)",
                name(node)
            )
        }
        MasterError::Configure(ConfigureError::NotAnIommu { entry, node }) => {
            format!(
                "iommus entry {entry}: {} has no #iommu-cells (not an IOMMU)",
                name(node)
            )
        }
        MasterError::Setup(SetupError::NoContext {
            host,
            total,
            reserved,
        }) => format!(
            "no translation context left on IOMMU {}: its {total} contexts ({reserved} reserved) are held by other domains (Linux's ipmmu_domain_allocate_context returns -EBUSY and the attach fails)",
            name(host)
        ),
        MasterError::Setup(SetupError::NoGroup { node }) => {
            let driver = match iommus.get(node).map(|r| r.state) {
                Some(IommuState::Initialised { decl, .. }) => decl.driver.name(),
                _ => "?",
            };
            format!(
                "its IDs on IOMMU {} fit none of driver `{driver}`'s groups, and the driver attaches only grouped masters (`domain per-group`; Linux's device_group fails, so the master gets no IOMMU)",
                name(node)
            )
        }
        other => other.to_string(),
    }
}

/// Why a configured master runs untranslated; `name` is its Linux device
/// name, for refusals by name.
pub fn untranslated_note(
    c: Configured,
    tree: &DeviceTree<'_>,
    name: Option<&str>,
) -> Option<String> {
    match c {
        Configured::MasterRefused { node, refusal } => {
            let iommu = tree.node(node).map(path_of).unwrap_or_default();
            let why = match refusal {
                Refusal::NotAllowed => match name {
                    Some(n) => format!("its device name \"{n}\" is not on the allow-list"),
                    None => "it has no device name to match the allow-list".into(),
                },
                Refusal::SocDenied {
                    machine,
                    revision: None,
                } => format!("the driver attaches no master on {machine}"),
                Refusal::SocDenied {
                    machine,
                    revision: Some(glob),
                } => format!(
                    "the driver attaches no master on {machine} revision {glob}, which the chip's revision matches"
                ),
            };
            Some(format!(
                "IOMMU {iommu}'s driver refuses the master: {why} (Linux's of_xlate returns -ENODEV): runs untranslated"
            ))
        }
        Configured::ProbeRefused { node, refusal } => {
            let path = |n: NodeId| tree.node(n).map(path_of).unwrap_or_default();
            let why = match refusal {
                ProbeRefusal::SeveralInstances { first, other } => format!(
                    "its iommus name {} and {}, two instances of a driver that takes one per master (`master one instance`)",
                    path(first),
                    path(other)
                ),
                ProbeRefusal::FieldDiffers {
                    field,
                    first,
                    other,
                    first_id,
                    other_id,
                } => format!(
                    "ID {other_id:#x} has {field} {other} and the first ID {first_id:#x} {field} {first}, and the driver takes one {field} per master (`master same {field}`)"
                ),
            };
            Some(format!(
                "IOMMU {}'s driver refuses the master once all its specifiers are read: {why} (Linux's driver fails the probe with -EINVAL and the master gets no IOMMU): runs untranslated",
                path(node)
            ))
        }
        Configured::IommuDisabled { node } => Some(format!(
            "IOMMU {} is disabled: runs untranslated",
            tree.node(node).map(path_of).unwrap_or_default()
        )),
        Configured::NoMapEntry => {
            Some("no iommu-map entry covers the ID: runs untranslated".into())
        }
        Configured::NoIommu => Some("names no IOMMU: direct DMA, untranslated".into()),
        Configured::Translated => None,
    }
}

/// What Linux does after a failure, appended to the failure.
pub fn failure_consequence(t: Translation, message: &str) -> String {
    match t {
        Translation::Deferred => format!(
            "{message}; once deferred_probe_timeout expires Linux probes it without the IOMMU, untranslated"
        ),
        Translation::Direct => format!(
            "{message}; Linux logs \"Adding to IOMMU failed\" and uses direct DMA, untranslated"
        ),
        _ => message.to_owned(),
    }
}
