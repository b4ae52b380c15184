//! `allow masters` / `deny soc` in the IR: which masters a driver lets
//! attach.

use super::Span;

/// Which masters a driver lets attach, checked by `of_xlate` before any
/// field (Linux's Renesas IPMMU `ipmmu_device_is_allowed`): on a denied
/// SoC none; else PCI functions always, and platform masters only when
/// no allow-list is given or their Linux device name is on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterPolicy {
    /// `allow masters "NAME", ...;`
    pub allow: Option<AllowList>,
    /// `deny soc "MACHINE" [revision "GLOB"], ...;`, in order.
    pub deny: Vec<DeniedSoc>,
}

impl MasterPolicy {
    /// Whether the policy can refuse any master.
    pub fn restricts(&self) -> bool {
        self.allow.is_some() || !self.deny.is_empty()
    }
}

/// Linux device names (`ee100000.mmc`), distinct, in declaration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList {
    pub names: Vec<String>,
    pub span: Span,
}

/// An SoC, named by a root-node compatible, on which no master attaches;
/// with `revision`, only chips of those revisions (a glob such as `ES2.*`,
/// read from the chip, which a device tree does not record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedSoc {
    pub machine: String,
    pub revision: Option<String>,
    pub span: Span,
}
