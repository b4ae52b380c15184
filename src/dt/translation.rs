//! How a master's DMA ends up translated, or why it does not, in the terms
//! of Linux's `of_dma_configure_id`: `-EPROBE_DEFER` from
//! `of_iommu_configure` defers the probe, every other IOMMU error means
//! "carry on without it" (direct DMA ops), and only a device that is never
//! created gets no DMA configuration at all.

use iommugen_runtime::boot::MasterError;
use iommugen_runtime::configure::{ConfigureError, Configured};
use iommugen_runtime::init::{IommuState, IommuTable};
use iommugen_runtime::ops::{DmaOps, SetupError};

/// Why a master in an identity default domain is untranslated.
pub const IDENTITY_NOTE: &str = "its IOMMU driver's default domain is identity (`default identity`, Linux's def_domain_type): the IOMMU passes its DMA through until a driver attaches a paging domain";

/// The DMA ops a master ends up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Translation {
    /// Through an IOMMU domain.
    Iommu,
    /// Direct DMA ops: bus addresses reach memory untranslated.
    Direct,
    /// The IOMMU has no driver (or its driver failed): Linux defers the
    /// probe, and carries on untranslated once `deferred_probe_timeout`
    /// expires (`driver_deferred_probe_check_state`; on a kernel without
    /// modules, as soon as the initcalls are done).
    Deferred,
    /// No DMA configuration: no device is created, or the DMA setup itself
    /// failed.
    None,
}

impl Translation {
    pub fn as_str(self) -> &'static str {
        match self {
            Translation::Iommu => "iommu",
            Translation::Direct => "direct",
            Translation::Deferred => "deferred",
            Translation::None => "none",
        }
    }
}

/// Why a master or requester is not translated: a stable reason code and
/// a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untranslated {
    pub reason: Reason,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Names no IOMMU (no `iommus`, or only empty entries).
    NoIommu,
    /// The IOMMU it names has a `status` other than okay.
    IommuDisabled,
    /// PCI: no `iommu-map` entry covers the requester ID.
    NoMapEntry,
    /// The IOMMU's driver refused the master (`allow masters` / `deny
    /// soc`; Linux's `-ENODEV` from `of_xlate`): runs untranslated.
    MasterRefused,
    /// The IOMMU's driver refused the master once all its specifiers were
    /// read (`master one instance` / `master same FIELD`; Linux's
    /// `probe_device` failing): no IOMMU, direct DMA.
    ProbeRefused,
    /// No spec's driver claims the IOMMU.
    IommuUnclaimed,
    /// The IOMMU's driver failed to initialise it.
    IommuFailed,
    /// Configuring the IOMMU failed (bad `iommus`, `of_xlate` refused the
    /// specifier, bad `iommu-map`): Linux logs "Adding to IOMMU failed"
    /// and uses direct DMA.
    IommuError,
    /// Its domain found every translation context of the IOMMU taken
    /// (`contexts N`; Linux's `ipmmu_domain_allocate_context` gives
    /// `-EBUSY`, the attach fails, direct DMA): runs untranslated.
    NoContext,
    /// The master's own `status` is not okay: no device.
    NotCreated,
    /// The driver's default domain is identity: attached, passed through.
    IdentityDefault,
    /// `domain per-group` and the master fits none of the driver's groups
    /// (Linux's `device_group` fails): direct DMA.
    NoGroup,
    /// The DMA setup after configuration failed (`dma-ranges`, domains).
    SetupError,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoIommu => "no-iommu",
            Reason::IommuDisabled => "iommu-disabled",
            Reason::NoMapEntry => "no-map-entry",
            Reason::MasterRefused => "master-refused",
            Reason::ProbeRefused => "probe-refused",
            Reason::IommuUnclaimed => "iommu-unclaimed",
            Reason::IommuFailed => "iommu-failed",
            Reason::IommuError => "iommu-error",
            Reason::NoContext => "no-context",
            Reason::NotCreated => "not-created",
            Reason::IdentityDefault => "identity-default",
            Reason::NoGroup => "no-group",
            Reason::SetupError => "setup-error",
        }
    }
}

/// The translation and reason for a configuration that did not fail.
pub fn configured(c: Configured, ops: DmaOps) -> (Translation, Option<Reason>) {
    let translated = matches!(ops, DmaOps::Iommu { .. });
    match c {
        Configured::Translated if translated => (Translation::Iommu, None),
        Configured::Translated if ops == DmaOps::Identity => {
            (Translation::Direct, Some(Reason::IdentityDefault))
        }
        Configured::Translated | Configured::NoIommu => {
            (Translation::Direct, Some(Reason::NoIommu))
        }
        Configured::IommuDisabled { .. } => (Translation::Direct, Some(Reason::IommuDisabled)),
        Configured::NoMapEntry => (Translation::Direct, Some(Reason::NoMapEntry)),
        Configured::MasterRefused { .. } => (Translation::Direct, Some(Reason::MasterRefused)),
        Configured::ProbeRefused { .. } => (Translation::Direct, Some(Reason::ProbeRefused)),
    }
}

/// The translation and reason for a master whose flow failed.
pub fn failed(e: MasterError, iommus: &IommuTable<'_, '_>) -> (Translation, Reason) {
    match e {
        MasterError::Configure(ConfigureError::NotInitialised { node }) => {
            match iommus.get(node).map(|r| r.state) {
                Some(IommuState::Failed { .. }) => (Translation::Deferred, Reason::IommuFailed),
                _ => (Translation::Deferred, Reason::IommuUnclaimed),
            }
        }
        MasterError::Configure(_) => (Translation::Direct, Reason::IommuError),
        MasterError::Setup(SetupError::NoContext { .. }) => {
            (Translation::Direct, Reason::NoContext)
        }
        MasterError::Setup(SetupError::NoGroup { .. }) => (Translation::Direct, Reason::NoGroup),
        MasterError::Setup(_) => (Translation::None, Reason::SetupError),
    }
}
