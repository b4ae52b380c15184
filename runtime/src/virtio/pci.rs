//! The modern virtio-pci transport's discovery: the vendor-specific
//! capabilities in configuration space that say where (BAR, offset,
//! length) the common configuration, the notification area, the ISR and
//! the device configuration live; and placing memory BARs in a host
//! bridge's window so those windows have addresses.

use super::Error;

/// Configuration space of one PCI function (ECAM on the kernel, a model in
/// tests), by byte offset, in 32-bit accesses.
pub trait ConfigSpace {
    fn read32(&self, offset: u16) -> u32;
    fn write32(&mut self, offset: u16, value: u32);
    fn read8(&self, offset: u16) -> u8 {
        (self.read32(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read16(&self, offset: u16) -> u16 {
        (self.read32(offset & !3) >> (8 * (offset & 2))) as u16
    }
}

const STATUS_COMMAND: u16 = 0x04;
const STATUS_CAP_LIST: u32 = 1 << 20;
const CAP_POINTER: u16 = 0x34;
const CAP_VENDOR: u8 = 0x09;
const BAR0: u16 = 0x10;
/// Memory space and bus master in the command register.
const COMMAND_MEMORY_MASTER: u32 = (1 << 1) | (1 << 2);
/// A sane function has at most (256 - 64) / 4 capabilities; a longer
/// chain is a loop.
const MAX_CAPS: usize = 48;

/// virtio-pci `cfg_type` values.
const COMMON: u8 = 1;
const NOTIFY: u8 = 2;
const ISR: u8 = 3;
const DEVICE: u8 = 4;

/// Where one configuration structure lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
}

/// The structures the driver needs, from the capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub common: Window,
    pub notify: Window,
    /// Queue `q`'s doorbell is at `notify.offset + queue_notify_off(q) *
    /// notify_multiplier`.
    pub notify_multiplier: u32,
    pub isr: Option<Window>,
    pub device: Window,
}

impl Layout {
    /// Walks the capability list (bounded, every pointer checked) and keeps
    /// the first capability of each type whose BAR is a valid index, as
    /// the specification asks drivers to.
    pub fn find(cfg: &impl ConfigSpace) -> Result<Layout, Error> {
        if cfg.read32(STATUS_COMMAND) & STATUS_CAP_LIST == 0 {
            return Err(Error::NoCapabilities);
        }
        let (mut common, mut notify, mut isr, mut device) = (None, None, None, None);
        let mut mult = 0;
        let mut at = cfg.read8(CAP_POINTER) & !3;
        for _ in 0..MAX_CAPS {
            if at == 0 {
                break;
            }
            if at < 0x40 {
                return Err(Error::BadCapability { at });
            }
            let (id, next) = (cfg.read8(at.into()), cfg.read8(u16::from(at) + 1));
            if id == CAP_VENDOR {
                let at16 = u16::from(at);
                let cap_len = cfg.read8(at16 + 2);
                let kind = cfg.read8(at16 + 3);
                let bar = cfg.read8(at16 + 4);
                if cap_len < 16 || u16::from(at) + u16::from(cap_len) > 256 {
                    return Err(Error::BadCapability { at });
                }
                let w = Window {
                    bar,
                    offset: cfg.read32(at16 + 8),
                    length: cfg.read32(at16 + 12),
                };
                let slot = match kind {
                    COMMON => &mut common,
                    NOTIFY => &mut notify,
                    ISR => &mut isr,
                    DEVICE => &mut device,
                    _ => &mut None,
                };
                if bar <= 5 && w.offset.checked_add(w.length).is_some() && slot.is_none() {
                    if kind == NOTIFY {
                        if cap_len < 20 {
                            return Err(Error::BadCapability { at });
                        }
                        mult = cfg.read32(at16 + 16);
                    }
                    *slot = Some(w);
                }
            }
            at = next & !3;
        }
        if at != 0 {
            return Err(Error::BadCapability { at });
        }
        let need = |w: Option<Window>, min: u32, kind| match w {
            Some(w) if w.length >= min => Ok(w),
            Some(_) | None => Err(Error::MissingStructure(kind)),
        };
        Ok(Layout {
            common: need(common, 0x38, "common configuration")?,
            notify: need(notify, 2, "notification")?,
            notify_multiplier: mult,
            isr,
            device: need(device, 0x28, "device configuration")?,
        })
    }

    /// The BARs the structures use, as a bit set.
    pub fn bars(&self) -> u8 {
        let mut set = 1 << self.common.bar | 1 << self.notify.bar | 1 << self.device.bar;
        if let Some(w) = self.isr {
            set |= 1 << w.bar;
        }
        set
    }
}

/// Sizes memory BAR `index` and places it at the first address of
/// `[from, window_end)` aligned to its size; returns (base, size). 64-bit
/// BARs take two slots; I/O BARs are refused.
pub fn place_bar(
    cfg: &mut impl ConfigSpace,
    index: u8,
    from: u64,
    window_end: u64,
) -> Result<(u64, u64), Error> {
    if index > 5 {
        return Err(Error::BadBar { index });
    }
    let reg = BAR0 + 4 * u16::from(index);
    let old = cfg.read32(reg);
    if old & 1 != 0 {
        return Err(Error::BadBar { index });
    }
    let wide = (old >> 1) & 0b11 == 0b10;
    if wide && index == 5 {
        return Err(Error::BadBar { index });
    }
    cfg.write32(reg, u32::MAX);
    let mut mask = u64::from(cfg.read32(reg) & !0xf);
    if wide {
        cfg.write32(reg + 4, u32::MAX);
        mask |= u64::from(cfg.read32(reg + 4)) << 32;
    } else {
        mask |= 0xffff_ffff_0000_0000;
    }
    if mask == 0 {
        return Err(Error::BadBar { index });
    }
    let size = (!mask).wrapping_add(1);
    let base = from
        .checked_add(size - 1)
        .map(|b| b & !(size - 1))
        .filter(|b| b.checked_add(size).is_some_and(|e| e <= window_end))
        .ok_or(Error::BadBar { index })?;
    if !wide && base >> 32 != 0 {
        return Err(Error::BadBar { index });
    }
    cfg.write32(reg, base as u32);
    if wide {
        cfg.write32(reg + 4, (base >> 32) as u32);
    }
    Ok((base, size))
}

/// Turns on memory decoding and bus mastering (status bits, which are
/// write-1-to-clear, written as 0).
pub fn enable(cfg: &mut impl ConfigSpace) {
    let cmd = cfg.read32(STATUS_COMMAND) & 0xffff;
    cfg.write32(STATUS_COMMAND, cmd | COMMAND_MEMORY_MASTER);
}

/// The address BAR `index` holds (low and, for a 64-bit BAR, high word).
pub fn bar_address(cfg: &impl ConfigSpace, index: u8) -> Option<u64> {
    if index > 5 {
        return None;
    }
    let reg = BAR0 + 4 * u16::from(index);
    let lo = cfg.read32(reg);
    if lo & 1 != 0 {
        return None;
    }
    let hi = if (lo >> 1) & 0b11 == 0b10 && index < 5 {
        cfg.read32(reg + 4)
    } else {
        0
    };
    Some(u64::from(hi) << 32 | u64::from(lo & !0xf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virtio::fake::FakeConfig;

    #[test]
    fn finds_the_virtio_structures_like_qemus() {
        let cfg = FakeConfig::qemu_like();
        let l = Layout::find(&cfg).unwrap();
        assert_eq!(
            l.common,
            Window {
                bar: 4,
                offset: 0,
                length: 0x1000
            }
        );
        assert_eq!(l.device.offset, 0x2000);
        assert_eq!(l.notify.offset, 0x3000);
        assert_eq!(l.notify_multiplier, 4);
        assert_eq!(l.bars(), 1 << 4);
    }

    #[test]
    fn hostile_capability_lists_are_errors() {
        // A loop: the capability points at itself.
        let mut cfg = FakeConfig::qemu_like();
        let first = cfg.read8(CAP_POINTER);
        cfg.set8(u16::from(first) + 1, first);
        assert!(matches!(
            Layout::find(&cfg),
            Err(Error::BadCapability { .. })
        ));
        // A pointer into the header.
        let mut cfg = FakeConfig::qemu_like();
        cfg.set8(CAP_POINTER, 0x10);
        assert_eq!(Layout::find(&cfg), Err(Error::BadCapability { at: 0x10 }));
        // No common configuration structure.
        let mut cfg = FakeConfig::qemu_like();
        cfg.set8(u16::from(first) + 3, 0x7f);
        assert_eq!(
            Layout::find(&cfg),
            Err(Error::MissingStructure("common configuration"))
        );
        // No capability list at all.
        let mut cfg = FakeConfig::qemu_like();
        cfg.write32(STATUS_COMMAND, 0);
        assert_eq!(Layout::find(&cfg), Err(Error::NoCapabilities));
    }

    #[test]
    fn bars_are_sized_and_placed_aligned() {
        let mut cfg = FakeConfig::qemu_like();
        let (base, size) = place_bar(&mut cfg, 4, 0x1000_1000, 0x3eff_0000).unwrap();
        assert_eq!((base, size), (0x1000_4000, 0x4000));
        assert_eq!(bar_address(&cfg, 4), Some(0x1000_4000));
        // Too small a window.
        assert_eq!(
            place_bar(&mut cfg, 4, 0x1000_1000, 0x1000_5000),
            Err(Error::BadBar { index: 4 })
        );
        enable(&mut cfg);
        assert_eq!(cfg.read32(STATUS_COMMAND) & 0b110, 0b110);
    }
}
