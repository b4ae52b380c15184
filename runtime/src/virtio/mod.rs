//! A polled virtio-iommu driver over the modern virtio-pci transport,
//! written from the virtio 1.x specification: no heap (the caller gives the
//! DMA memory), no interrupts (bounded polling), and every answer of the
//! device checked before it is used (a device is input: a bad used index,
//! length or status is a typed [`Error`], never a panic).
//!
//! - [`pci`]: the capability walk that finds the transport's structures,
//!   and memory BAR placement;
//! - [`io`]: register windows ([`Io`], volatile [`Mmio`]) and the shared
//!   memory ([`DmaRegion`]);
//! - [`queue`]: one split virtqueue;
//! - [`proto`]: the request, status, PROBE property and fault formats;
//! - [`driver`]: bring-up, the requests, the event queue, and the
//!   [`RequestQueue`](crate::requests::RequestQueue) the boot flow's
//!   request domains send MAP and UNMAP through.

pub mod driver;
pub mod io;
pub mod pci;
pub mod proto;
pub mod queue;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

pub use driver::{Config, Options, Regions, VirtioIommu};
pub use io::{DmaRegion, Io, Mmio};
pub use proto::{Fault, Reason, ResvKind, ResvMem, Status};

/// Everything that can go wrong talking to the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The function has no capability list.
    NoCapabilities,
    /// A capability at this offset is malformed (or the list loops).
    BadCapability { at: u8 },
    /// No usable capability for this structure.
    MissingStructure(&'static str),
    /// A BAR that cannot be placed (I/O, no size, no room in the window).
    BadBar { index: u8 },
    /// The device lacks a feature the driver needs (bit number).
    MissingFeature(u32),
    /// The device did not accept the negotiated features.
    FeaturesRefused,
    /// The device's configuration kept changing while read.
    ConfigUnstable,
    /// The device set DEVICE_NEEDS_RESET.
    NeedsReset,
    /// A queue the driver needs is absent (index).
    MissingQueue(u16),
    /// A queue size the driver cannot use.
    QueueSize(u16),
    /// A queue's doorbell lies outside the notification window.
    BadNotify(u16),
    /// The DMA memory is too small for the rings and buffers.
    NoMemory,
    /// The descriptors are still with the device.
    Busy,
    /// The device did not answer within the spin budget; the driver stops
    /// (the device may still own its buffers).
    Timeout,
    /// An earlier device error stopped the driver.
    Broken,
    /// The used index moved by more than the chains the device owns.
    BadUsedIndex { index: u16, seen: u16 },
    /// The used ring named a descriptor the device does not own.
    BadUsedId(u32),
    /// The used length is not what the request's layout allows.
    BadUsedLength { len: u32, max: u32 },
    /// The device answered with this status.
    Status(Status),
    /// The device answered with a status the specification does not list.
    UnknownStatus(u8),
    /// PROBE's property list is malformed at this byte.
    BadProbe { at: usize },
    /// PROBE reported more reserved regions than the caller has room for.
    TooManyRegions,
    /// A malformed event record.
    BadEvent,
    /// A domain ID outside the device's domain range.
    DomainOutOfRange(u32),
    /// A range outside the device's input range, wrapping, or not aligned
    /// to its smallest page.
    BadRange,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoCapabilities => f.write_str("no PCI capability list"),
            Error::BadCapability { at } => write!(f, "malformed PCI capability at {at:#x}"),
            Error::MissingStructure(s) => write!(f, "no virtio-pci {s} capability"),
            Error::BadBar { index } => write!(f, "BAR{index} cannot be placed"),
            Error::MissingFeature(b) => write!(f, "device lacks feature bit {b}"),
            Error::FeaturesRefused => f.write_str("device refused the features (FEATURES_OK)"),
            Error::ConfigUnstable => f.write_str("device configuration kept changing"),
            Error::NeedsReset => f.write_str("device needs a reset"),
            Error::MissingQueue(q) => write!(f, "device has no queue {q}"),
            Error::QueueSize(s) => write!(f, "unusable queue size {s}"),
            Error::BadNotify(q) => write!(f, "queue {q}'s doorbell is outside the notify window"),
            Error::NoMemory => f.write_str("DMA memory too small"),
            Error::Busy => f.write_str("descriptors still owned by the device"),
            Error::Timeout => f.write_str("device did not answer in time"),
            Error::Broken => f.write_str("driver stopped after an earlier device error"),
            Error::BadUsedIndex { index, seen } => {
                write!(
                    f,
                    "used index {index} jumped past the chains in flight (seen {seen})"
                )
            }
            Error::BadUsedId(id) => write!(f, "used ring names descriptor {id}, not the device's"),
            Error::BadUsedLength { len, max } => {
                write!(f, "used length {len} where the request allows {max}")
            }
            Error::Status(s) => write!(f, "device answered {s:?}"),
            Error::UnknownStatus(s) => write!(f, "device answered unknown status {s}"),
            Error::BadProbe { at } => write!(f, "malformed PROBE property at byte {at}"),
            Error::TooManyRegions => f.write_str("more reserved regions than room for them"),
            Error::BadEvent => f.write_str("malformed event record"),
            Error::DomainOutOfRange(d) => write!(f, "domain {d} outside the device's range"),
            Error::BadRange => f.write_str("range outside the device's input range or unaligned"),
        }
    }
}
