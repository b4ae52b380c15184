//! Just enough GICv3 for one LPI from one PCI function: the distributor
//! with affinity routing, the boot CPU's redistributor with LPIs on (an
//! LPI configuration table and a pending table), the CPU interface's
//! system registers, and the ITS (device and collection tables, command
//! queue; MAPC, MAPD, MAPTI, INV and SYNC). Polled: interrupts stay masked
//! at the CPU (PSTATE.I), the kernel reads the pending table and
//! acknowledges through ICC_IAR1_EL1. Register offsets are the GICv3
//! architecture's (IHI 0069).

use core::arch::asm;

use iommugen_runtime::fdt::{DeviceTree, Node};

/// The first LPI INTID.
pub const FIRST_LPI: u32 = 8192;
/// LPI INTIDs have this many bits here: 8192..16383, 8 KiB of
/// configuration, 2 KiB of pending bits.
const ID_BITS: u32 = 14;

// Distributor.
const GICD_CTLR: usize = 0x0;
const GICD_TYPER: usize = 0x4;
const CTLR_RWP: u32 = 1 << 31;
/// EnableGrp1 (bit 1) and ARE (bit 4): LPIs are group 1 and need affinity
/// routing.
const GICD_ENABLE: u32 = (1 << 1) | (1 << 4);
const TYPER_LPIS: u32 = 1 << 17;
// Redistributor (RD_base frame).
const GICR_CTLR: usize = 0x0;
const GICR_TYPER: usize = 0x8;
const GICR_WAKER: usize = 0x14;
const GICR_PROPBASER: usize = 0x70;
const GICR_PENDBASER: usize = 0x78;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const CTLR_ENABLE_LPIS: u32 = 1;
/// Inner write-back read/write-allocate, inner shareable: how the CPU maps
/// this RAM (PROPBASER, PENDBASER, GITS_BASER and GITS_CBASER agree).
const WB_INNER_SHAREABLE: u64 = (0b111 << 7) | (0b01 << 10);
const ITS_WB_INNER_SHAREABLE: u64 = (0b111 << 59) | (0b01 << 10);
// ITS.
const GITS_CTLR: usize = 0x0;
const GITS_TYPER: usize = 0x8;
const GITS_CBASER: usize = 0x80;
const GITS_CWRITER: usize = 0x88;
const GITS_CREADR: usize = 0x90;
const GITS_BASER: usize = 0x100;
const VALID: u64 = 1 << 63;
const BASER_DEVICE: u64 = 1;
const BASER_COLLECTION: u64 = 4;

const PAGE: u64 = 0x1000;

fn r32(addr: u64) -> u32 {
    // SAFETY: `addr` is a register of the GIC frames the tree gave; the
    // boot map covers them as Device memory.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}
fn w32(addr: u64, v: u32) {
    // SAFETY: as in `r32`.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}
fn r64(addr: u64) -> u64 {
    // SAFETY: as in `r32`; these registers take 64-bit accesses.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}
fn w64(addr: u64, v: u64) {
    // SAFETY: as in `r64`.
    unsafe { core::ptr::write_volatile(addr as *mut u64, v) }
}

/// Waits until `done`, for up to a second.
fn wait(mut done: impl FnMut() -> bool, why: &'static str) -> Result<(), &'static str> {
    let deadline = crate::boot::now_ticks() + crate::boot::ticks_per_second();
    while !done() {
        if crate::boot::now_ticks() > deadline {
            return Err(why);
        }
        core::hint::spin_loop();
    }
    Ok(())
}

fn alloc(size: u64, align: u64) -> Result<u64, &'static str> {
    crate::BUMP
        .with(|b| b.alloc_zeroed(size, align))
        .ok_or("no RAM for the GIC's tables")
}

/// The GIC after [`Gic::init`]: LPIs on for the boot CPU, the ITS enabled
/// with collection 0 on it.
pub struct Gic {
    gicr: u64,
    its: u64,
    pending: u64,
    cmdq: u64,
    cwriter: u64,
    /// MAPC's and SYNC's target: the redistributor's address >> 16 or its
    /// processor number, as GITS_TYPER.PTA says.
    target: u64,
    itt_entry: u64,
    device_entries: u64,
}

/// `node`'s `reg` entries (2 address and 2 size cells, as under QEMU's
/// root and its GIC node).
fn reg(node: Node<'_>, i: usize) -> Option<u64> {
    let cells = node.property("reg")?.cells()?;
    let (_, rest) = cells.split(4 * i)?;
    let (base, _) = rest.split(2)?;
    Some(base.number())
}

impl Gic {
    /// Finds the `arm,gic-v3` node and brings it up with the ITS whose
    /// frame starts at `its`.
    pub fn init(dt: &DeviceTree<'_>, its: u64) -> Result<Gic, &'static str> {
        let node = dt
            .nodes()
            .find(|n| crate::tree::compatible(*n, "arm,gic-v3"))
            .ok_or("no arm,gic-v3 node")?;
        let gicd = reg(node, 0).ok_or("the GIC's reg has no distributor")?;
        let gicr = reg(node, 1).ok_or("the GIC's reg has no redistributor")?;
        if r32(gicd + GICD_TYPER as u64) & TYPER_LPIS == 0 {
            return Err("GICD_TYPER.LPIS is 0: the GIC has no LPIs (QEMU needs its=on)");
        }
        w32(gicd + GICD_CTLR as u64, GICD_ENABLE);
        wait(
            || r32(gicd + GICD_CTLR as u64) & CTLR_RWP == 0,
            "GICD_CTLR.RWP stuck",
        )?;

        // The boot CPU's redistributor is the first frame: QEMU virt lays
        // them out in CPU order and this kernel runs on CPU 0.
        let rd_typer = r64(gicr + GICR_TYPER as u64);
        if rd_typer >> 32 != 0 {
            return Err("the first redistributor is not CPU 0's");
        }
        let waker = gicr + GICR_WAKER as u64;
        w32(waker, r32(waker) & !WAKER_PROCESSOR_SLEEP);
        wait(
            || r32(waker) & WAKER_CHILDREN_ASLEEP == 0,
            "GICR_WAKER.ChildrenAsleep stuck",
        )?;
        let lpis = (1u64 << ID_BITS) - u64::from(FIRST_LPI);
        let config = alloc(lpis, PAGE)?;
        // The pending table covers every INTID below 2^ID_BITS and must be
        // 64 KiB aligned.
        let pending = alloc((1 << ID_BITS) / 8, 0x1_0000)?;
        let idbits = u64::from(ID_BITS - 1);
        w64(
            gicr + GICR_PROPBASER as u64,
            config | WB_INNER_SHAREABLE | idbits,
        );
        w64(gicr + GICR_PENDBASER as u64, pending | WB_INNER_SHAREABLE);
        // LPI FIRST_LPI: enabled (bit 0), priority 0xa0.
        // SAFETY: `config` is the first byte of the table just allocated.
        unsafe { core::ptr::write_volatile(config as *mut u8, 0xa0 | 1) };
        dsb();
        w32(gicr + GICR_CTLR as u64, CTLR_ENABLE_LPIS);

        // The CPU interface: system registers on, every priority unmasked,
        // group 1 enabled. PSTATE.I stays set: nothing is taken, only
        // acknowledged.
        // SAFETY: configures this CPU's GIC interface; no memory effects.
        unsafe {
            asm!(
                "msr icc_sre_el1, {sre}",
                "isb",
                "msr icc_pmr_el1, {pmr}",
                "msr icc_igrpen1_el1, {one}",
                "isb",
                sre = in(reg) 0b111u64,
                pmr = in(reg) 0xffu64,
                one = in(reg) 1u64,
                options(nostack)
            )
        };

        // The ITS: flat one-page tables for devices and collections.
        let typer = r64(its + GITS_TYPER as u64);
        let pta = typer & (1 << 19) != 0;
        let itt_entry = ((typer >> 4) & 0xf) + 1;
        let mut device_entries = 0;
        let mut collections = false;
        for n in 0..8u64 {
            let at = its + GITS_BASER as u64 + 8 * n;
            let baser = r64(at);
            let kind = (baser >> 56) & 7;
            if kind != BASER_DEVICE && kind != BASER_COLLECTION {
                continue;
            }
            let entry = ((baser >> 48) & 0x1f) + 1;
            let table = alloc(PAGE, PAGE)?;
            // Page size 4K (field 0), one page (size field 0).
            w64(
                at,
                VALID | ITS_WB_INNER_SHAREABLE | (baser & (0x1f << 48)) | (kind << 56) | table,
            );
            if r64(at) & (VALID | 0x3 << 8) != VALID {
                return Err("the ITS refused a 4K flat table");
            }
            if kind == BASER_DEVICE {
                device_entries = PAGE / entry;
            } else {
                collections = true;
            }
        }
        if device_entries == 0 || !collections {
            return Err("the ITS has no device or collection table register");
        }
        let cmdq = alloc(PAGE, PAGE)?;
        w64(
            its + GITS_CBASER as u64,
            VALID | ITS_WB_INNER_SHAREABLE | cmdq,
        );
        w64(its + GITS_CWRITER as u64, 0);
        w32(its + GITS_CTLR as u64, 1);
        let target = if pta {
            gicr >> 16
        } else {
            (rd_typer >> 8) & 0xffff
        };
        let mut gic = Gic {
            gicr,
            its,
            pending,
            cmdq,
            cwriter: 0,
            target,
            itt_entry,
            device_entries,
        };
        // MAPC: collection 0 -> this CPU's redistributor; SYNC.
        gic.commands(&[
            [0x09, 0, VALID | (target << 16), 0],
            [0x05, 0, target << 16, 0],
        ])?;
        Ok(gic)
    }

    /// The redistributor the LPIs go to.
    pub fn redistributor(&self) -> u64 {
        self.gicr
    }

    /// Routes event `event` of ITS device `device` to LPI `lpi` on
    /// collection 0: an interrupt translation table for the device (MAPD),
    /// the translation (MAPTI), the LPI's configuration re-read (INV),
    /// SYNC.
    pub fn map_event(&mut self, device: u32, event: u32, lpi: u32) -> Result<(), &'static str> {
        if u64::from(device) >= self.device_entries {
            return Err("the DeviceID is past the ITS device table");
        }
        if event > 1 {
            return Err("the ITT holds events 0 and 1 only");
        }
        // Two events (MAPD size field 0: one EventID bit), 256-byte aligned.
        let itt = alloc(2 * self.itt_entry, 256)?;
        let dev = u64::from(device) << 32;
        self.commands(&[
            [0x08 | dev, 0, VALID | itt, 0],
            [0x0a | dev, u64::from(event) | u64::from(lpi) << 32, 0, 0],
            [0x0c | dev, u64::from(event), 0, 0],
            [0x05, 0, self.target << 16, 0],
        ])
    }

    /// Queues `cmds` and waits for the ITS to consume them.
    fn commands(&mut self, cmds: &[[u64; 4]]) -> Result<(), &'static str> {
        for cmd in cmds {
            for (i, dw) in cmd.iter().enumerate() {
                let at = self.cmdq + self.cwriter + 8 * i as u64;
                // SAFETY: a dword of the command queue page this GIC owns.
                unsafe { core::ptr::write_volatile(at as *mut u64, *dw) };
            }
            self.cwriter = (self.cwriter + 32) % PAGE;
        }
        dsb();
        w64(self.its + GITS_CWRITER as u64, self.cwriter);
        let (its, cwriter) = (self.its, self.cwriter);
        wait(
            || r64(its + GITS_CREADR as u64) == cwriter,
            "the ITS did not consume its commands (or stalled on one)",
        )
    }

    /// Whether `lpi`'s bit is set in the redistributor's pending table.
    pub fn pending(&self, lpi: u32) -> bool {
        let at = self.pending + u64::from(lpi / 8);
        // SAFETY: inside the pending table (LPIs are below 2^ID_BITS).
        let byte = unsafe { core::ptr::read_volatile(at as *const u8) };
        byte & (1 << (lpi % 8)) != 0
    }

    /// Acknowledges the highest-priority pending group-1 interrupt (1023:
    /// none) and, if it was one, ends it.
    pub fn acknowledge(&self) -> u32 {
        let intid: u64;
        // SAFETY: reading ICC_IAR1_EL1 acknowledges the interrupt and
        // writing ICC_EOIR1_EL1 ends it; no memory effects.
        unsafe {
            asm!("mrs {}, icc_iar1_el1", out(reg) intid, options(nostack));
            if intid & 0xff_ffff != 1023 {
                asm!("msr icc_eoir1_el1, {}", "isb", in(reg) intid, options(nostack));
            }
        }
        (intid & 0xff_ffff) as u32
    }
}

/// Orders earlier memory writes before the GIC reads them.
fn dsb() {
    // SAFETY: a barrier only.
    unsafe { asm!("dsb sy", options(nostack)) };
}
