//! A register-level model of an SMMUv3 for host tests of the driver's
//! sequencing. It acknowledges CR0/GBPA/IRQ_CTRL writes, consumes the
//! command queue from memory (recording each command, and what the
//! addressed STE held at that moment), can stop on a chosen opcode with
//! CERROR_ILL, and can inject event records. It can also misbehave on
//! purpose: refuse to acknowledge a chosen CR0 value, hold GBPA.UPDATE for
//! a number of reads (dropping writes made meanwhile), and consume the
//! command queue only after some polls of CMDQ_CONS.
//!
//! "Physical" addresses are host addresses (the tests hand the driver
//! identity-mapped memory), but the model never turns an integer into a
//! pointer: each test registers its memory with [`add_ram`], and an address
//! is resolved through the registered pointer (`with_addr`), which keeps the
//! pointer's provenance, so the tests run under Miri's strict provenance.
//!
//! Stores the driver makes to 64-byte entries ([`record_store`]) and the
//! commands the model consumes land on one per-thread timeline
//! ([`take_steps`]), from which a test can replay every state of an entry
//! the SMMU could have fetched.

extern crate std;

use core::cell::{Cell, RefCell};
use core::ptr::NonNull;
use std::vec;
use std::vec::Vec;

use super::cmd::{Command, CommandEntry};
use super::dma::DmaSlice;
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

/// One event on the timeline of a test's thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The driver stored `value` in the dword at host address `addr`.
    Store { addr: usize, value: u64 },
    /// The model consumed (executed) a command.
    Command(Command),
}

std::thread_local! {
    static RAM: RefCell<Vec<(NonNull<u8>, usize)>> = const { RefCell::new(Vec::new()) };
    static STEPS: RefCell<Vec<Step>> = const { RefCell::new(Vec::new()) };
}

/// Makes `memory` reachable by the model at its physical address.
pub fn add_ram<T: Copy>(memory: &DmaSlice<'_, T>) {
    let bytes = memory.bytes() as usize;
    RAM.with(|r| r.borrow_mut().push((memory.cpu_ptr().cast(), bytes)));
}

/// The host pointer for `size_of::<T>()` bytes at `phys`, derived from the
/// registered pointer that covers them.
fn host_ptr<T>(phys: u64) -> *mut T {
    let size = core::mem::size_of::<T>();
    RAM.with(|r| {
        for &(base, len) in r.borrow().iter() {
            let start = base.as_ptr().addr();
            let Some(off) = (phys as usize).checked_sub(start) else {
                continue;
            };
            if off.checked_add(size).is_some_and(|end| end <= len) {
                return base.as_ptr().with_addr(phys as usize).cast();
            }
        }
        panic!("the model accessed {phys:#x}, outside the memory it was given")
    })
}

/// Reads a `T` at physical address `phys`, as the SMMU would.
pub fn read_phys<T: Copy>(phys: u64) -> T {
    // SAFETY: `host_ptr` only returns pointers inside registered test memory,
    // which the tests leak (it outlives every access).
    unsafe { core::ptr::read_volatile(host_ptr::<T>(phys)) }
}

fn write_phys<T: Copy>(phys: u64, value: T) {
    // SAFETY: as in `read_phys`.
    unsafe { core::ptr::write_volatile(host_ptr::<T>(phys), value) }
}

/// Called by the driver's entry publication for every dword it stores.
pub fn record_store(addr: usize, value: u64) {
    STEPS.with(|s| s.borrow_mut().push(Step::Store { addr, value }));
}

/// The timeline so far on this thread (emptied).
pub fn take_steps() -> Vec<Step> {
    STEPS.with(|s| core::mem::take(&mut *s.borrow_mut()))
}

pub struct FakeSmmu {
    regs: RefCell<Vec<u32>>,
    seen: RefCell<Vec<Seen>>,
    /// Every register write: (offset, value, CR0 at the time).
    pub writes: Vec<(usize, u64, u32)>,
    /// Stop with CERROR_ILL when reaching this opcode (once).
    pub reject_opcode: Cell<Option<u8>>,
    /// Never acknowledge CR0 writes (a wedged SMMU).
    pub ignore_cr0: bool,
    /// Never acknowledge a CR0 write of this value (one bring-up step hangs).
    pub refuse_cr0: Option<u32>,
    /// Never consume commands (a stalled command queue).
    pub stall_cmdq: bool,
    /// Consume newly published commands only after this many reads of
    /// CMDQ_CONS (0: at once, when CMDQ_PROD or GERRORN is written).
    pub cmdq_latency: u32,
    cmdq_countdown: Cell<u32>,
    /// GBPA.UPDATE stays set for this many reads of GBPA after a write.
    pub gbpa_hold: u32,
    /// Reads of GBPA left before the current update completes.
    pub gbpa_busy: Cell<u32>,
    /// GBPA writes dropped: made while UPDATE was still set, or without
    /// UPDATE (both lose the write on an SMMU).
    pub gbpa_lost: Cell<u32>,
}

impl FakeSmmu {
    /// The ID registers of QEMU 7.2's model, built from the field layouts:
    /// stage 1 only, AArch64 tables, coherent, 16-bit ASIDs, little-endian,
    /// two-level stream tables, SIDSIZE 16, queues up to 2^19, OAS 44 bits,
    /// all three granules, range invalidation.
    pub fn qemu_like() -> FakeSmmu {
        let f = FakeSmmu {
            regs: RefCell::new(vec![0; regs::FRAME_SIZE / 4]),
            seen: RefCell::new(Vec::new()),
            writes: Vec::new(),
            reject_opcode: Cell::new(None),
            ignore_cr0: false,
            refuse_cr0: None,
            stall_cmdq: false,
            cmdq_latency: 0,
            cmdq_countdown: Cell::new(0),
            gbpa_hold: 0,
            gbpa_busy: Cell::new(0),
            gbpa_lost: Cell::new(0),
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
        self.regs.borrow()[off / 4]
    }
    pub fn set(&self, off: usize, v: u32) {
        self.regs.borrow_mut()[off / 4] = v;
    }
    fn get64(&self, off: usize) -> u64 {
        self.get(off) as u64 | ((self.get(off + 4) as u64) << 32)
    }

    /// Commands consumed, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }

    /// New commands are visible: consume them now or after the latency.
    fn kick_cmdq(&self) {
        if self.cmdq_latency == 0 {
            self.consume_commands();
        } else {
            self.cmdq_countdown.set(self.cmdq_latency);
        }
    }

    fn consume_commands(&self) {
        if self.stall_cmdq || self.get(regs::CR0) & cr0::CMDQEN == 0 {
            return;
        }
        if (self.get(regs::GERROR) ^ self.get(regs::GERRORN)) & gerror::CMDQ_ERR != 0 {
            return;
        }
        let base = self.get64(regs::CMDQ_BASE);
        let geo = QueueGeometry::new((base & 0x1f) as u8).expect("CMDQ_BASE.LOG2SIZE <= 19");
        let addr = base & regs::BASE_ADDR_MASK;
        let prod = self.get(regs::CMDQ_PROD);
        let mut cons = self.get(regs::CMDQ_CONS);
        while !geo.is_empty(prod, cons) {
            let raw: CommandEntry = read_phys(addr + 16 * u64::from(geo.index(cons)));
            if self.reject_opcode.get() == Some(raw[0] as u8) {
                self.reject_opcode.set(None);
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
            STEPS.with(|s| s.borrow_mut().push(Step::Command(command)));
            self.seen.borrow_mut().push(Seen {
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
        let mut index = u64::from(sid);
        if (cfg >> 16) & 0b11 == 1 {
            let split = (cfg >> 6) & 0x1f;
            let desc: u64 = read_phys(base + 8 * u64::from(sid >> split));
            if desc & 0x1f == 0 {
                return Ste::default();
            }
            base = desc & (((1u64 << 52) - 1) & !0x3f);
            index = u64::from(sid & ((1 << split) - 1));
        }
        read_phys(base + 64 * index)
    }

    /// Writes an event record as the SMMU would, or flags an overflow.
    pub fn inject_event(&mut self, raw: EventEntry) {
        let base = self.get64(regs::EVTQ_BASE);
        let geo = QueueGeometry::new((base & 0x1f) as u8).expect("EVTQ_BASE.LOG2SIZE <= 19");
        let prod = self.get(regs::EVTQ_PROD);
        let cons = self.get(regs::EVTQ_CONS);
        if geo.is_full(prod, cons) {
            // Overflow: toggle OVFLG if it is currently acknowledged.
            if (prod ^ cons) & (1 << 31) == 0 {
                self.set(regs::EVTQ_PROD, prod ^ (1 << 31));
            }
            return;
        }
        let addr = (base & regs::BASE_ADDR_MASK) + 32 * u64::from(geo.index(prod));
        write_phys(addr, raw);
        self.set(regs::EVTQ_PROD, geo.next(prod) | (prod & (1 << 31)));
    }

    fn write_gbpa(&self, value: u32) {
        if self.gbpa_busy.get() > 0 || value & gbpa::UPDATE == 0 {
            self.gbpa_lost.set(self.gbpa_lost.get() + 1);
            return;
        }
        self.set(regs::GBPA, value & !gbpa::UPDATE);
        self.gbpa_busy.set(self.gbpa_hold);
    }
}

impl RegisterIo for FakeSmmu {
    fn read32(&self, offset: usize) -> u32 {
        match offset {
            regs::GBPA if self.gbpa_busy.get() > 0 => {
                self.gbpa_busy.set(self.gbpa_busy.get() - 1);
                self.get(regs::GBPA) | gbpa::UPDATE
            }
            regs::CMDQ_CONS if self.cmdq_countdown.get() > 0 => {
                let left = self.cmdq_countdown.get() - 1;
                self.cmdq_countdown.set(left);
                if left == 0 {
                    self.consume_commands();
                }
                self.get(offset)
            }
            _ => self.get(offset),
        }
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.writes
            .push((offset, value as u64, self.get(regs::CR0)));
        match offset {
            regs::CR0 => {
                self.set(regs::CR0, value);
                if !self.ignore_cr0 && self.refuse_cr0 != Some(value) {
                    self.set(regs::CR0ACK, value);
                }
            }
            regs::GBPA => self.write_gbpa(value),
            regs::IRQ_CTRL => {
                self.set(regs::IRQ_CTRL, value);
                self.set(regs::IRQ_CTRLACK, value);
            }
            regs::CMDQ_PROD | regs::GERRORN => {
                self.set(offset, value);
                self.kick_cmdq();
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
            .field("seen", &self.seen.borrow().len())
            .finish()
    }
}
