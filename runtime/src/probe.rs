//! The probe step (Linux's `probe_device`): once every specifier of a
//! master went through its driver's `of_xlate`, each driver of the
//! master's fwspec looks at all of its part at once and may refuse the
//! master, which then runs untranslated.
//!
//! `of_xlate` sees one specifier at a time, so rules that relate a
//! master's specifiers to each other live here: `qcom_iommu` wants all
//! of a master's context banks on one IOMMU, `mtk_iommu` all of a
//! master's ports in one local arbiter ("Can only use one larb"). The
//! spec's `master one instance;` and `master same FIELD;` become a
//! [`ProbePolicy`], which generated drivers and `iommugen dt` check the
//! same way.

use crate::fdt::NodeId;

/// What one driver's probe step sees of a master's fwspec: the
/// instances of that driver it names and the IDs they hold, in the order
/// `of_xlate` stored them. Instances of other drivers are left out, as
/// Linux's fwspec belongs to one driver (`iommu_fwspec_init` refuses a
/// second one).
#[derive(Clone, Copy)]
pub struct ProbeView<'a> {
    pub(crate) iommus: &'a [NodeId],
    pub(crate) ids: &'a [u32],
    pub(crate) owner: &'a [u8],
    /// Whether an instance is this driver's.
    pub(crate) mine: &'a dyn Fn(NodeId) -> bool,
}

impl core::fmt::Debug for ProbeView<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProbeView")
            .field("iommus", &self.iommus)
            .field("ids", &self.ids)
            .finish()
    }
}

impl<'a> ProbeView<'a> {
    /// This driver's instances the master names, first named first.
    pub fn instances(&self) -> impl Iterator<Item = NodeId> + 'a {
        let mine = self.mine;
        self.iommus.iter().copied().filter(move |&n| mine(n))
    }

    /// This driver's IDs with their instance, in the order stored.
    pub fn ids(&self) -> impl Iterator<Item = (NodeId, u32)> + 'a {
        let (iommus, mine) = (self.iommus, self.mine);
        self.ids
            .iter()
            .zip(self.owner)
            .filter_map(move |(&id, &o)| iommus.get(usize::from(o)).map(|&n| (n, id)))
            .filter(move |&(n, _)| mine(n))
    }
}

/// Why a driver's probe step refused a master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeRefusal {
    /// `master one instance;`: the master names `first` and also `other`,
    /// two instances of the driver (Linux's qcom_iommu: "a master's
    /// iommus must all name banks of one IOMMU").
    SeveralInstances { first: NodeId, other: NodeId },
    /// `master same FIELD;`: ID `other_id` has `other` in `field`, the
    /// first ID `first_id` has `first` (Linux's mtk_iommu_probe_device:
    /// "Can only use one larb").
    FieldDiffers {
        field: &'static str,
        first: u32,
        other: u32,
        first_id: u32,
        other_id: u32,
    },
}

impl core::fmt::Display for ProbeRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeRefusal::SeveralInstances { .. } => {
                f.write_str("the master names two instances of a driver that takes one")
            }
            ProbeRefusal::FieldDiffers {
                field,
                first,
                other,
                first_id,
                other_id,
            } => write!(
                f,
                "ID {other_id:#x} has {field} {other}, the first ID {first_id:#x} has {field} {first}: the driver takes one {field} per master"
            ),
        }
    }
}

/// `master same FIELD;`: where FIELD sits in every ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SameField {
    pub name: &'static str,
    /// Its lowest bit in an ID.
    pub shift: u8,
    /// Its width in bits.
    pub width: u8,
}

impl SameField {
    /// The field's value in `id`.
    pub fn of(&self, id: u32) -> u32 {
        let low = if self.width >= 32 {
            u32::MAX
        } else {
            (1u32 << self.width) - 1
        };
        id.checked_shr(u32::from(self.shift)).unwrap_or(0) & low
    }
}

/// A driver's probe rules (the spec's `master` statements).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbePolicy {
    /// `master one instance;`.
    pub one_instance: bool,
    /// `master same FIELD;`.
    pub same: Option<SameField>,
}

impl ProbePolicy {
    /// No rule: every master is accepted.
    pub const ACCEPT: ProbePolicy = ProbePolicy {
        one_instance: false,
        same: None,
    };

    /// Check the rules in the order the spec's reference gives them:
    /// one instance first (a second IOMMU is the coarser mistake), then
    /// the field, each ID against the first as Linux compares with
    /// `ids[0]`.
    pub fn check(&self, view: &ProbeView<'_>) -> Result<(), ProbeRefusal> {
        if self.one_instance {
            let mut named = view.instances();
            if let Some(first) = named.next() {
                if let Some(other) = named.find(|&n| n != first) {
                    return Err(ProbeRefusal::SeveralInstances { first, other });
                }
            }
        }
        if let Some(same) = &self.same {
            let mut ids = view.ids().map(|(_, id)| id);
            if let Some(first_id) = ids.next() {
                let first = same.of(first_id);
                if let Some(other_id) = ids.find(|&id| same.of(id) != first) {
                    return Err(ProbeRefusal::FieldDiffers {
                        field: same.name,
                        first,
                        other: same.of(other_id),
                        first_id,
                        other_id,
                    });
                }
            }
        }
        Ok(())
    }
}
