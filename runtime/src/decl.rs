//! Seed step (1): the declaration table (Linux's `IOMMU_OF_DECLARE`).
//!
//! A [`Declaration`] pairs a `compatible` string with the driver that claims
//! it. Generated code emits `static` slices of them; the attribute macro
//! registers them across crates in a linker section (see
//! [`IOMMU_DECLARATIONS`]). The boot flow takes a list of
//! tables (`&[&[Declaration]]`), so both kinds, and several of each, are
//! searched together.

use crate::fdt::Node;
use crate::fwspec::{FwSpecFull, IdSink};
use crate::master::{Master, Refusal};
use crate::probe::{ProbeRefusal, ProbeView};

/// What a driver's early-init hook hands back: an opaque token for its
/// per-instance state (an index into driver-owned storage, or the address of
/// a `static`). The runtime keeps it against the node (the seed's
/// `of_iommu_set_data`) and passes it back to `of_xlate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceData(pub usize);

/// Why a driver refused an IOMMU node or a master's specifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverError {
    /// `#iommu-cells` (or a specifier's length) is not one the driver accepts.
    WrongCellCount { got: u32 },
    /// A field has no available source (no cell, no property).
    MissingField { field: u16 },
    /// The driver's check number `check` (in spec order) failed.
    CheckFailed { check: u16 },
    /// Generated drivers: the named field has no available source (no
    /// cell, no property, no constant).
    FieldMissing { field: &'static str },
    /// Generated drivers: a spec check failed; `check` is its text as
    /// written in the spec (e.g. `stream_id < 1 << 20`).
    CheckRejected { check: &'static str },
    /// Bits of a specifier cell, or of a property a field took its value
    /// from, are set that no field reads and the spec does not declare
    /// dropped (`ignore`): refused rather than truncated into another
    /// master's ID. `bits` are the offending bits.
    UnreadBits { word: SpecWord, bits: u32 },
    /// No available child node of the IOMMU node is compatible with the
    /// spec's `child` strings and has `key` as its key (Qualcomm's
    /// `qcom_iommu` refuses a context bank number no probed bank has);
    /// `child` is the statement's text after `child`.
    NoChild { child: &'static str, key: u64 },
    /// A cache instance (its node has the spec's `main` property) while the
    /// tree has no main instance of its family: Linux's IPMMU probe waits
    /// for one (`-EPROBE_DEFER`) and never comes up.
    NoMainInstance { property: &'static str },
    /// `of_xlate` on a main instance (no `main` property): it hosts the
    /// cache instances' contexts and Linux does not register it as an
    /// IOMMU, so masters cannot name it.
    MainInstance { property: &'static str },
    /// The master's fwspec is full.
    FwSpecFull(FwSpecFull),
    /// The driver's probe step refused the master once all its
    /// specifiers were read (Linux's `probe_device` failing, e.g.
    /// MediaTek's "Can only use one larb"): it runs untranslated.
    ProbeRefused(ProbeRefusal),
    /// The driver does not let this master attach (Linux's `-ENODEV`
    /// from `of_xlate`): the master runs untranslated, not an error.
    MasterRefused(Refusal),
    /// The hardware or the node is unusable, in the driver's words.
    Other(&'static str),
}

/// The 32-bit word of input a [`DriverError::UnreadBits`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecWord {
    /// A specifier cell, by index (`cell[N]` in the spec).
    Cell(u32),
    /// A `u32` property of the IOMMU node.
    Property(&'static str),
    /// A `u32` property of the master's node (`master property`).
    MasterProperty(&'static str),
}

impl core::fmt::Display for SpecWord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpecWord::Cell(i) => write!(f, "cell[{i}]"),
            SpecWord::Property(p) => write!(f, "property \"{p}\""),
            SpecWord::MasterProperty(p) => write!(f, "master property \"{p}\""),
        }
    }
}

impl From<FwSpecFull> for DriverError {
    fn from(e: FwSpecFull) -> Self {
        DriverError::FwSpecFull(e)
    }
}

impl core::fmt::Display for DriverError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DriverError::WrongCellCount { got } => {
                write!(f, "{got} specifier cells are not accepted by the driver")
            }
            DriverError::MissingField { field } => write!(f, "field #{field} has no value"),
            DriverError::CheckFailed { check } => write!(f, "check #{check} failed"),
            DriverError::FieldMissing { field } => write!(f, "field `{field}` has no value"),
            DriverError::CheckRejected { check } => write!(f, "check `{check}` failed"),
            DriverError::UnreadBits { word, bits } => write!(
                f,
                "{word} has bits {bits:#x} set that the driver neither reads nor ignores"
            ),
            DriverError::NoChild { child, key } => write!(
                f,
                "no available child node matches `child {child}` with key {key}"
            ),
            DriverError::NoMainInstance { property } => write!(
                f,
                "a cache instance (it has `{property}`), but the tree has no main instance of its family to use (Linux defers its probe)"
            ),
            DriverError::MainInstance { property } => write!(
                f,
                "a main instance (no `{property}`): it hosts its cache instances' contexts and is not registered as an IOMMU"
            ),
            DriverError::FwSpecFull(e) => e.fmt(f),
            DriverError::MasterRefused(r) => r.fmt(f),
            DriverError::ProbeRefused(r) => r.fmt(f),
            DriverError::Other(why) => f.write_str(why),
        }
    }
}

/// How DMA domains are shared among a driver's masters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainPolicy {
    /// One domain per IOMMU instance, shared by its masters (the seed).
    PerInstance,
    /// One domain per master: isolation.
    PerDevice,
    /// Only masters in one of the driver's groups attach; the others keep
    /// direct DMA (Linux's `device_group` fails for them).
    PerGroup,
}

/// One of a driver's IOMMU groups: its masters share a domain per instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupInfo<'a> {
    pub name: &'a str,
    /// The group's IOVA aperture `[aperture_base, aperture_base +
    /// aperture_size)`.
    pub aperture_base: u64,
    pub aperture_size: u64,
}

/// The spec's DMA facts about a driver, as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DriverInfo {
    pub domain: DomainPolicy,
    /// Default IOVA aperture `[aperture_base, aperture_base + aperture_size)`.
    pub aperture_base: u64,
    pub aperture_size: u64,
    /// The driver may sit behind a PCI host bridge's `iommu-map`.
    pub pci: bool,
    /// Smallest page the domain maps (the granule).
    pub granule: u64,
    /// Masters start in an identity domain: the IOMMU passes their DMA
    /// through (Linux's `def_domain_type` returning identity).
    pub identity_default: bool,
    /// Every instance of the driver shares the domains (and groups) of the
    /// first one (Linux's MediaTek `SHARE_PGTABLE`: one `hw_list`, one page
    /// table for all its M4Us).
    pub shared_domains: bool,
}

/// What a driver does at boot. Generated drivers implement it on a unit
/// struct; `iommugen dt` implements it by interpreting a checked spec.
pub trait IommuDriver: Sync {
    /// The driver's name in reports.
    fn name(&self) -> &str;

    fn info(&self) -> DriverInfo;

    /// Whether platform master `master` starts in an identity domain
    /// although not every master does (Linux's `def_domain_type` picking
    /// masters by compatible, as the Qualcomm SMMU's client list does).
    fn identity_for(&self, master: Node<'_>) -> bool {
        let _ = master;
        false
    }

    /// The driver's group `index` (`0..32`, the bit its `of_xlate` sets
    /// with [`IdSink::push_in`]); `None` past the last.
    fn group(&self, index: u32) -> Option<GroupInfo<'_>> {
        let _ = index;
        None
    }

    /// Seed step (2): bring up the IOMMU at `node` (status already checked).
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError>;

    /// Seed step (3): turn one specifier (the cells after the phandle in
    /// `iommus`, or the single mapped ID from `iommu-map`) into IDs for the
    /// master's fwspec. `master` is the device the specifier belongs to, as
    /// Linux's `of_xlate(dev, spec)` sees it; refusing it with
    /// [`DriverError::MasterRefused`] leaves it untranslated.
    fn of_xlate(
        &self,
        master: &Master<'_>,
        iommu: Node<'_>,
        data: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError>;

    /// Linux's `probe_device`: called once per driver of the master's
    /// fwspec after every specifier went through [`Self::of_xlate`], with
    /// the driver's part of the fwspec. Refusing with
    /// [`DriverError::ProbeRefused`] leaves the master untranslated
    /// ([`crate::configure::Configured::ProbeRefused`]). The default
    /// accepts every master: most drivers have no rule across a master's
    /// specifiers.
    fn probe_device(
        &self,
        _master: &Master<'_>,
        _fwspec: &ProbeView<'_>,
    ) -> Result<(), DriverError> {
        Ok(())
    }

    /// The translation contexts instance `iommu` draws on (the spec's
    /// `contexts N reserved K`); `None`: domains are not counted. Each new
    /// domain attached takes one ([`crate::ops`]).
    fn contexts(&self, _iommu: Node<'_>) -> Option<crate::contexts::ContextPool> {
        None
    }
}

/// One row of the declaration table.
#[derive(Clone, Copy)]
pub struct Declaration<'d> {
    pub compatible: &'d str,
    pub driver: &'d dyn IommuDriver,
}

impl core::fmt::Debug for Declaration<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Declaration")
            .field("compatible", &self.compatible)
            .field("driver", &self.driver.name())
            .finish()
    }
}

/// The declaration claiming `node`, trying its `compatible` strings most
/// specific (first) to least, across every table in order.
pub fn match_node<'d>(
    tables: &[&'d [Declaration<'d>]],
    node: Node<'_>,
) -> Option<&'d Declaration<'d>> {
    let compatible = node.property("compatible")?;
    compatible.strings().find_map(|want| {
        tables
            .iter()
            .flat_map(|t| t.iter())
            .find(|d| d.compatible.as_bytes() == want)
    })
}

/// Declarations registered from any crate linked into the image, through a
/// linker section (linkme). The attribute macro registers a driver with
///
/// ```
/// use iommugen_runtime::decl::*;
/// use iommugen_runtime::fdt::Node;
/// use iommugen_runtime::fwspec::IdSink;
/// use iommugen_runtime::master::Master;
///
/// struct SmmuV3;
/// impl IommuDriver for SmmuV3 {
///     fn name(&self) -> &str { "smmu_v3" }
///     fn info(&self) -> DriverInfo {
///         DriverInfo { domain: DomainPolicy::PerInstance, aperture_base: 0,
///                      aperture_size: 1 << 32, pci: true, granule: 4096,
///                      identity_default: false, shared_domains: false }
///     }
///     fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> { Ok(InstanceData(0)) }
///     fn of_xlate(&self, _: &Master<'_>, _: Node<'_>, _: InstanceData, args: &[u32],
///                 ids: &mut IdSink<'_>)
///         -> Result<(), DriverError> {
///         for &a in args { ids.push(a)?; }
///         Ok(())
///     }
/// }
///
/// #[iommugen_runtime::linkme::distributed_slice(iommugen_runtime::decl::IOMMU_DECLARATIONS)]
/// #[linkme(crate = iommugen_runtime::linkme)]
/// static SMMU_V3: Declaration<'static> = Declaration { compatible: "arm,smmu-v3", driver: &SmmuV3 };
///
/// assert!(IOMMU_DECLARATIONS.iter().any(|d| d.compatible == "arm,smmu-v3"));
/// ```
///
/// On ELF targets the section is `linkme_IOMMU_DECLARATIONS`; a bare-metal
/// linker script must keep it (the book's boot-flow chapter shows the lines):
///
/// ```text
/// linkme_IOMMU_DECLARATIONS : { KEEP(*(linkme_IOMMU_DECLARATIONS)) }
/// linkm2_IOMMU_DECLARATIONS : { KEEP(*(linkm2_IOMMU_DECLARATIONS)) }
/// ```
///
/// Pass it to the boot flow next to any static tables:
/// `&[&IOMMU_DECLARATIONS, GENERATED_TABLE]`.
#[linkme::distributed_slice]
pub static IOMMU_DECLARATIONS: [Declaration<'static>];
