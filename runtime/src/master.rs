//! The master a specifier belongs to, as a driver's `of_xlate` sees it.
//!
//! Linux hands `of_xlate` and `probe_device` the master's `struct device`;
//! some drivers decide from it alone whether the master may attach
//! (Renesas IPMMU's `ipmmu_device_is_allowed`: PCI functions and named
//! platform devices only). [`Master`] carries what such decisions read:
//! the node, whether it is a PCI function (and its requester ID), and the
//! name Linux gives the device ([`crate::devname`]).
//!
//! [`MasterPolicy`] is such a decision as data, shared by generated
//! drivers and `iommugen dt`'s interpreter: a list of SoCs on which no
//! master attaches (matched on the root node's `compatible`), and a list
//! of platform-device names that may (PCI functions always may).

use crate::devname::{self, DevNameError};
use crate::fdt::Node;
use crate::glob::glob_match;

/// Room for a device name: `%llx.` and a 31-character node name fit many
/// times over; only long chains of unnamed parents can exceed it.
pub const NAME_LEN: usize = 256;

/// A PCI function: the host bridge's domain and the requester ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciFunction {
    pub domain: u32,
    pub rid: u32,
}

/// One master, for `of_xlate`.
#[derive(Clone, Copy, Debug)]
pub struct Master<'a> {
    node: Node<'a>,
    pci: Option<PciFunction>,
    name: Option<&'a str>,
}

impl<'a> Master<'a> {
    /// A platform master: its node and its Linux name (`None` when it
    /// could not be made, e.g. the buffer was too small).
    pub fn platform(node: Node<'a>, name: Option<&'a str>) -> Self {
        Master {
            node,
            pci: None,
            name,
        }
    }

    /// PCI function `rid` behind host bridge `host` (which stands in for
    /// the function's node, as in [`crate::boot::setup_pci`]).
    pub fn pci(host: Node<'a>, rid: u32, name: Option<&'a str>) -> Self {
        Master {
            node: host,
            pci: Some(PciFunction {
                domain: devname::pci_domain(host),
                rid,
            }),
            name,
        }
    }

    /// The platform master at `node`, its name written into `buf`.
    pub fn named_platform(node: Node<'a>, buf: &'a mut [u8]) -> Result<Self, DevNameError> {
        let name = devname::platform_name(node, buf)?;
        Ok(Self::platform(node, Some(name)))
    }

    /// PCI function `rid` behind `host`, its name written into `buf`.
    pub fn named_pci(host: Node<'a>, rid: u32, buf: &'a mut [u8]) -> Result<Self, DevNameError> {
        let name = devname::pci_name(devname::pci_domain(host), rid, buf)?;
        Ok(Self::pci(host, rid, Some(name)))
    }

    /// The master's node (a PCI function's host bridge).
    pub fn node(&self) -> Node<'a> {
        self.node
    }

    /// Linux's `dev_is_pci`.
    pub fn is_pci(&self) -> bool {
        self.pci.is_some()
    }

    pub fn pci_function(&self) -> Option<PciFunction> {
        self.pci
    }

    /// The requester ID of a PCI function.
    pub fn rid(&self) -> Option<u32> {
        self.pci.map(|p| p.rid)
    }

    /// Linux's `dev_name(dev)`, when it could be made.
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }

    /// Whether the tree's root node lists `compatible` (the machine, e.g.
    /// `renesas,r8a7795`; Linux's `soc_device_match` reads the SoC ID the
    /// Renesas SoC driver takes from it).
    pub fn machine_is(&self, compatible: &str) -> bool {
        self.node
            .tree()
            .root()
            .property("compatible")
            .is_some_and(|p| p.strings().any(|c| c == compatible.as_bytes()))
    }
}

/// An SoC on which a driver attaches no master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeniedSoc<'a> {
    /// A root-node compatible, e.g. `renesas,r8a7796`.
    pub machine: &'a str,
    /// Only these revisions (a glob, `ES2.*`); `None`: all of them. The
    /// revision is read from the chip, not the tree: an entry with one
    /// matches only through [`MasterPolicy::admit_on`] given the revision.
    pub revision: Option<&'a str>,
}

impl DeniedSoc<'_> {
    /// Linux's `soc_device_match_attr`: the machine, and the revision
    /// glob against the chip's revision when the entry has one (an
    /// unknown revision matches no such entry).
    pub fn matches(&self, master: &Master<'_>, revision: Option<&str>) -> bool {
        let revision_ok = match (self.revision, revision) {
            (None, _) => true,
            (Some(glob), Some(rev)) => glob_match(glob, rev),
            (Some(_), None) => false,
        };
        revision_ok && master.machine_is(self.machine)
    }
}

/// Why a master was refused (Linux's `-ENODEV` from `of_xlate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The machine is on the driver's SoC deny list; `revision`: the
    /// entry's revision glob, when the refusal came from one.
    SocDenied {
        machine: &'static str,
        revision: Option<&'static str>,
    },
    /// A platform master whose name is not on the driver's allow-list.
    NotAllowed,
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refusal::SocDenied {
                machine,
                revision: None,
            } => write!(f, "the driver attaches no master on {machine}"),
            Refusal::SocDenied {
                machine,
                revision: Some(glob),
            } => write!(
                f,
                "the driver attaches no master on {machine} revision {glob}"
            ),
            Refusal::NotAllowed => f.write_str("the master is not on the driver's allow-list"),
        }
    }
}

/// Which masters a driver lets attach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MasterPolicy<'a> {
    /// Platform-device names that may attach; `None`: every master may.
    pub allow: Option<&'a [&'a str]>,
    /// SoCs on which none may.
    pub deny: &'a [DeniedSoc<'static>],
}

impl MasterPolicy<'_> {
    /// Linux's order: the SoC deny list, then PCI functions (always
    /// allowed), then the names.
    /// The chip's revision is unknown: revision-limited deny entries do
    /// not match ([`Self::admit_on`] with `None`).
    pub fn admit(&self, master: &Master<'_>) -> Result<(), Refusal> {
        self.admit_on(master, None)
    }

    /// [`Self::admit`] on a chip of a known `revision` (what the Renesas
    /// SoC driver reads from PRR, e.g. `ES2.0`), matched against each deny
    /// entry's glob as `soc_device_match` does (Linux's
    /// `ipmmu_device_is_allowed`).
    pub fn admit_on(&self, master: &Master<'_>, revision: Option<&str>) -> Result<(), Refusal> {
        for soc in self.deny {
            if soc.matches(master, revision) {
                return Err(Refusal::SocDenied {
                    machine: soc.machine,
                    revision: soc.revision,
                });
            }
        }
        let Some(allow) = self.allow else {
            return Ok(());
        };
        if master.is_pci() {
            return Ok(());
        }
        match master.name() {
            Some(name) if allow.contains(&name) => Ok(()),
            _ => Err(Refusal::NotAllowed),
        }
    }
}
