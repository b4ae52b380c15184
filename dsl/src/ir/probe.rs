//! The probe policy: rules over all of a master's specifiers.
//!
//! `of_xlate` sees one specifier at a time, so a rule that relates a
//! master's specifiers to each other cannot be a `check`. Linux states
//! such rules in the driver's `probe_device`, which the IOMMU core calls
//! once the whole fwspec is built: `qcom_iommu` wants every specifier of a
//! master to name banks of one IOMMU, `mtk_iommu` wants every ID of a
//! master in one local arbiter ("Can only use one larb"). A master that
//! breaks one gets no IOMMU and runs untranslated.

use super::{FieldId, Span};

/// The driver's probe rules; the default (no statement) accepts every
/// master.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbePolicy {
    /// `master one instance;`: the master's fwspec names one instance of
    /// this driver. Its span, when given.
    pub one_instance: Option<Span>,
    /// `master same FIELD;`: the master's IDs agree in FIELD.
    pub same: Option<SameField>,
}

impl ProbePolicy {
    /// Whether the policy accepts every master (no statement given), so
    /// generated code needs no `probe_device` of its own.
    pub fn is_empty(&self) -> bool {
        self.one_instance.is_none() && self.same.is_none()
    }
}

/// `master same FIELD;`, with where FIELD sits in the packed ID: the rule
/// is checked on the fwspec's IDs, as Linux's `mtk_iommu_probe_device`
/// reads the larb back out of each ID (`MTK_M4U_TO_LARB`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SameField {
    pub field: FieldId,
    /// The field's name, for the refusal's message.
    pub name: String,
    /// Its lowest bit in every ID.
    pub shift: u8,
    /// Its width in bits (the field's type).
    pub width: u8,
    pub span: Span,
}

impl SameField {
    /// The field's bits in an ID, in place.
    pub fn mask(&self) -> u32 {
        let low = if self.width >= 32 {
            u32::MAX
        } else {
            (1u32 << self.width) - 1
        };
        low.checked_shl(u32::from(self.shift)).unwrap_or(0)
    }
}
