//! A register-level model of an SMMUv3 for host tests of the driver's
//! sequencing. It acknowledges CR0/GBPA/IRQ_CTRL writes, consumes the
//! command queue from memory when CMDQ_PROD is written (recording each
//! command, and what the addressed STE held at that moment), can stop on a
//! chosen opcode with CERROR_ILL, and can inject event records.
//!
//! "Physical" addresses are host pointers, as the tests hand the driver
//! identity-mapped memory.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::cmd::{Command, CommandEntry};
use super::event::EventEntry;
use super::mmio::RegisterIo;
use super::queue::QueueGeometry;
use super::regs::{self, cr0, gbpa, gerror};
use super::ste::Ste;

/// A command the model consumed, with the STE of the command's StreamID (for
/// CFGI_STE) as it was in memory when the command executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub command: Command,
    pub ste_at_cfgi: Option<Ste>,
}

pub struct FakeSmmu {
    regs: Vec<u32>,
    /// Commands consumed, in order.
    pub seen: Vec<Seen>,
    /// Every register write: (offset, value, CR0 at the time).
    pub writes: Vec<(usize, u64, u32)>,
    /// Stop with CERROR_ILL when reaching this opcode (once).
    pub reject_opcode: Option<u8>,
    /// Never acknowledge CR0 writes (a wedged SMMU).
    pub ignore_cr0: bool,
    /// Never consume commands (a stalled command queue).
    pub stall_cmdq: bool,
}

impl FakeSmmu {
    /// The ID registers of QEMU 7.2's model, built from the field layouts:
    /// stage 1 only, AArch64 tables, coherent, 16-bit ASIDs, little-endian,
    /// two-level stream tables, SIDSIZE 16, queues up to 2^19, OAS 44 bits,
    /// all three granules, range invalidation.
    pub fn qemu_like() -> FakeSmmu {
        let mut f = FakeSmmu {
            regs: vec![0; regs::FRAME_SIZE / 4],
            seen: Vec::new(),
            writes: Vec::new(),
            reject_opcode: None,
            ignore_cr0: false,
            stall_cmdq: false,
        };
        f.set(
            regs::IDR0,
            (1 << 1)
                | (2 << 2)
                | (1 << 4)
                | (1 << 12)
                | (2 << 21)
                | (1 << 24)
                | (1 << 26)
                | (1 << 27),
        );
        f.set(regs::IDR1, 16 | (19 << 16) | (19 << 21));
        f.set(regs::IDR3, 1 << 10);
        f.set(regs::IDR5, 4 | (1 << 4) | (1 << 5) | (1 << 6));
        f
    }

    pub fn get(&self, off: usize) -> u32 {
        self.regs[off / 4]
    }
    pub fn set(&mut self, off: usize, v: u32) {
        self.regs[off / 4] = v;
    }
    fn get64(&self, off: usize) -> u64 {
        self.get(off) as u64 | ((self.get(off + 4) as u64) << 32)
    }

    fn consume_commands(&mut self) {
        if self.stall_cmdq || self.get(regs::CR0) & cr0::CMDQEN == 0 {
            return;
        }
        if (self.get(regs::GERROR) ^ self.get(regs::GERRORN)) & gerror::CMDQ_ERR != 0 {
            return;
        }
        let base = self.get64(regs::CMDQ_BASE);
        let geo = QueueGeometry::new((base & 0x1f) as u8).unwrap();
        let addr = base & regs::BASE_ADDR_MASK;
        let prod = self.get(regs::CMDQ_PROD);
        let mut cons = self.get(regs::CMDQ_CONS);
        while !geo.is_empty(prod, cons) {
            let p = (addr as usize + 16 * geo.index(cons) as usize) as *const CommandEntry;
            // SAFETY: the driver under test put the queue at this host address.
            let raw = unsafe { core::ptr::read_volatile(p) };
            if Some(raw[0] as u8) == self.reject_opcode.take() {
                self.set(regs::CMDQ_CONS, geo.position(cons) | (1 << 24));
                let g = self.get(regs::GERROR);
                self.set(regs::GERROR, g ^ gerror::CMDQ_ERR);
                return;
            }
            let command = Command::decode(&raw).expect("driver wrote an unknown command");
            let ste_at_cfgi = match command {
                Command::CfgiSte { sid, .. } => Some(self.ste(sid)),
                _ => None,
            };
            self.seen.push(Seen {
                command,
                ste_at_cfgi,
            });
            // CONS.ERR is left as it was: only GERROR says it is current.
            cons = geo.next(cons) | (cons & !((geo.entries() << 1) - 1));
        }
        self.set(regs::CMDQ_CONS, cons);
    }

    /// The STE of `sid` in the table STRTAB_BASE points at, walking level
    /// 1 first when STRTAB_BASE_CFG.FMT says two-level.
    pub fn ste(&self, sid: u32) -> Ste {
        let mut base = self.get64(regs::STRTAB_BASE) & regs::BASE_ADDR_MASK;
        let cfg = self.get(regs::STRTAB_BASE_CFG);
        let mut index = sid as usize;
        if (cfg >> 16) & 0b11 == 1 {
            let split = (cfg >> 6) & 0x1f;
            let l1 = (base as usize + 8 * (sid >> split) as usize) as *const u64;
            // SAFETY: the driver under test put level 1 here.
            let desc = unsafe { core::ptr::read_volatile(l1) };
            if desc & 0x1f == 0 {
                return Ste::default();
            }
            base = desc & (((1u64 << 52) - 1) & !0x3f);
            index = (sid & ((1 << split) - 1)) as usize;
        }
        let p = (base as usize + 64 * index) as *const Ste;
        // SAFETY: the driver under test put the table at this host address;
        // tests only ask for StreamIDs inside it.
        unsafe { core::ptr::read_volatile(p) }
    }

    /// Writes an event record as the SMMU would, or flags an overflow.
    pub fn inject_event(&mut self, raw: EventEntry) {
        let base = self.get64(regs::EVTQ_BASE);
        let geo = QueueGeometry::new((base & 0x1f) as u8).unwrap();
        let prod = self.get(regs::EVTQ_PROD);
        let cons = self.get(regs::EVTQ_CONS);
        if geo.is_full(prod, cons) {
            // Overflow: toggle OVFLG if it is currently acknowledged.
            if (prod ^ cons) & (1 << 31) == 0 {
                self.set(regs::EVTQ_PROD, prod ^ (1 << 31));
            }
            return;
        }
        let addr = (base & regs::BASE_ADDR_MASK) as usize + 32 * geo.index(prod) as usize;
        // SAFETY: as in `consume_commands`.
        unsafe { core::ptr::write_volatile(addr as *mut EventEntry, raw) };
        self.set(regs::EVTQ_PROD, geo.next(prod) | (prod & (1 << 31)));
    }
}

impl RegisterIo for FakeSmmu {
    fn read32(&self, offset: usize) -> u32 {
        self.get(offset)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.writes
            .push((offset, value as u64, self.get(regs::CR0)));
        match offset {
            regs::CR0 => {
                self.set(regs::CR0, value);
                if !self.ignore_cr0 {
                    self.set(regs::CR0ACK, value);
                }
            }
            regs::GBPA => self.set(regs::GBPA, value & !gbpa::UPDATE),
            regs::IRQ_CTRL => {
                self.set(regs::IRQ_CTRL, value);
                self.set(regs::IRQ_CTRLACK, value);
            }
            regs::CMDQ_PROD => {
                self.set(regs::CMDQ_PROD, value);
                self.consume_commands();
            }
            regs::GERRORN => {
                self.set(regs::GERRORN, value);
                self.consume_commands();
            }
            _ => self.set(offset, value),
        }
    }

    fn read64(&self, offset: usize) -> u64 {
        self.get64(offset)
    }

    fn write64(&mut self, offset: usize, value: u64) {
        self.writes.push((offset, value, self.get(regs::CR0)));
        self.set(offset, value as u32);
        self.set(offset + 4, (value >> 32) as u32);
    }
}

impl core::fmt::Debug for FakeSmmu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FakeSmmu")
            .field("cr0", &self.get(regs::CR0))
            .field("seen", &self.seen.len())
            .finish()
    }
}
