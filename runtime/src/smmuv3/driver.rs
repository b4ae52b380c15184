//! Bring-up and operation of one SMMUv3: the early-init sequence, command
//! submission with CMD_SYNC completion, stream-table updates, TLB
//! invalidation and event draining.
//!
//! The SMMU is polled: no interrupt or MSI is configured, CMD_SYNC completion
//! is observed through CMDQ_CONS and events are drained on demand. That keeps
//! the driver independent of any interrupt controller.

use super::cd::{ContextDescriptor, Granule};
use super::cmd::{Command, CommandEntry, TlbiVaRange};
pub use super::dma::DmaSlice;
use super::dma::{dma_wmb, Publish};
use super::event::{Event, EventEntry};
use super::mmio::RegisterIo;
use super::queue::QueueGeometry;
use super::regs::{self, cr0, gbpa, CommandError, Cr1Attrs, Features};
use super::ste::{CdFetchAttrs, Ste, StreamConfig};
use super::strtab::StreamTable;
#[cfg(doc)]
use super::strtab::TwoLevel;

/// Why the SMMU could not be brought up or did not complete a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The SMMU lacks something this driver needs.
    Unsupported(&'static str),
    /// A table or queue is not a power of two, too large for the SMMU, or
    /// not aligned to its size.
    BadMemory(&'static str),
    /// The SMMU did not acknowledge in time.
    Timeout(&'static str),
    /// The command queue stopped on a command.
    Command { error: CommandError, opcode: u8 },
    /// A StreamID beyond the stream table.
    StreamIdOutOfRange(u32),
    /// A two-level table has no level-2 array for this StreamID yet
    /// (see [`Smmuv3::install_l2`]).
    NoLevel2(u32),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Unsupported(what) => write!(f, "SMMU lacks {what}"),
            Error::BadMemory(what) => write!(f, "unusable memory for the {what}"),
            Error::Timeout(what) => write!(f, "SMMU timed out waiting for {what}"),
            Error::Command { error, opcode } => {
                write!(f, "command {opcode:#x} failed: {error:?}")
            }
            Error::StreamIdOutOfRange(sid) => {
                write!(f, "StreamID {sid:#x} beyond the stream table")
            }
            Error::NoLevel2(sid) => {
                write!(f, "no level-2 stream table for StreamID {sid:#x}")
            }
        }
    }
}

/// The memory the SMMU needs, provided by the caller (zeroing not required).
#[derive(Debug)]
pub struct Memory<'a> {
    /// Linear: 2^n STEs (n <= SIDSIZE; one entry when only StreamID 0 is
    /// used), aligned to the table's size. Two-level: see [`TwoLevel`].
    pub stream_table: StreamTable<'a>,
    /// 2^n entries (2 <= 2^n, n <= CMDQS), aligned to the queue's size.
    pub cmdq: DmaSlice<'a, CommandEntry>,
    /// 2^n entries (n <= EVENTQS), aligned to the queue's size.
    pub evtq: DmaSlice<'a, EventEntry>,
}

/// How large a linear stream table to allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamTableSize {
    /// log2 of the number of STEs.
    pub log2_entries: u8,
}

impl StreamTableSize {
    /// Enough STEs for every StreamID up to `max_sid` (the largest ID the
    /// device tree can produce, e.g. from an `iommu-map`), never more than
    /// the SMMU's SIDSIZE allows.
    pub fn for_max_stream_id(features: &Features, max_sid: u32) -> StreamTableSize {
        let needed = (32 - max_sid.leading_zeros()) as u8;
        StreamTableSize {
            log2_entries: needed.min(features.sid_bits),
        }
    }
    pub fn entries(self) -> usize {
        1usize << self.log2_entries
    }
    /// Bytes, which is also the required alignment.
    pub fn bytes(self) -> usize {
        self.entries() * core::mem::size_of::<Ste>()
    }
}

/// Choices the caller makes at bring-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The SMMU's table walks and queue accesses snoop CPU caches: the node
    /// is `dma-coherent` and IDR0.COHACC is set.
    pub coherent: bool,
    /// Abort (rather than bypass) transactions while the SMMU is disabled.
    pub abort_when_disabled: bool,
    /// Polling budget for every acknowledgement, in register reads.
    pub spin_limit: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            coherent: true,
            abort_when_disabled: true,
            spin_limit: 1_000_000,
        }
    }
}

/// Totals of one [`Smmuv3::drain_events`] call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainStats {
    pub events: u32,
    /// The SMMU dropped events because the queue was full.
    pub overflowed: bool,
}

/// EVTQ_PROD.OVFLG / EVTQ_CONS.OVACKFLG.
const EVTQ_OVERFLOW: u32 = 1 << 31;

/// One enabled SMMUv3.
#[derive(Debug)]
pub struct Smmuv3<'a, R: RegisterIo> {
    regs: R,
    features: Features,
    options: Options,
    strtab: StreamTable<'a>,
    cmdq: DmaSlice<'a, CommandEntry>,
    cmdq_geo: QueueGeometry,
    /// Our producer position (the register's last written value).
    cmdq_prod: u32,
    evtq: DmaSlice<'a, EventEntry>,
    evtq_geo: QueueGeometry,
    /// The SMMU snoops CPU caches; else the driver cleans and invalidates.
    coherent: bool,
    /// The first command error since the last [`Smmuv3::sync`] returned:
    /// the failed command was skipped and the queue resumed.
    cmd_error: Option<Error>,
}

/// Decodes the SMMU's ID registers.
pub fn read_features<R: RegisterIo>(regs: &R) -> Features {
    Features::decode(
        regs.read32(regs::IDR0),
        regs.read32(regs::IDR1),
        regs.read32(regs::IDR3),
        regs.read32(regs::IDR5),
    )
}

fn poll<R: RegisterIo>(
    regs: &R,
    limit: u32,
    what: &'static str,
    mut done: impl FnMut(&R) -> bool,
) -> Result<(), Error> {
    for _ in 0..limit.max(1) {
        if done(regs) {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(Error::Timeout(what))
}

impl<'a, R: RegisterIo> Smmuv3<'a, R> {
    /// The early-init sequence: disable, point the SMMU at the stream table
    /// (every STE set to abort) and the queues, enable the command queue,
    /// invalidate all cached configuration and TLB entries with a sync,
    /// enable the event queue, then translation.
    pub fn enable(
        mut regs: R,
        features: Features,
        memory: Memory<'a>,
        options: Options,
    ) -> Result<Smmuv3<'a, R>, Error> {
        check_features(&features)?;
        let Memory {
            mut stream_table,
            mut cmdq,
            mut evtq,
        } = memory;
        let strtab_log2 = stream_table.check(&features)?;
        let cmdq_geo = cmdq
            .log2_len()
            .filter(|&n| n >= 1 && n <= features.cmdq_max_log2)
            .and_then(QueueGeometry::new)
            .ok_or(Error::BadMemory("command queue"))?;
        let evtq_geo = evtq
            .log2_len()
            .filter(|&n| n <= features.evtq_max_log2)
            .and_then(QueueGeometry::new)
            .ok_or(Error::BadMemory("event queue"))?;
        if !cmdq.aligned_to_size(32) {
            return Err(Error::BadMemory("command queue"));
        }
        if !evtq.aligned_to_size(32) {
            return Err(Error::BadMemory("event queue"));
        }
        let limit = options.spin_limit;

        // Everything off; the bases may only change while the queues and
        // translation are disabled.
        regs.write32(regs::CR0, 0);
        poll(&regs, limit, "CR0ACK (disable)", |r| {
            r.read32(regs::CR0ACK) == 0
        })?;
        if options.abort_when_disabled {
            update_gbpa(&mut regs, gbpa::ABORT, limit)?;
        }
        regs.write32(regs::IRQ_CTRL, 0);
        poll(&regs, limit, "IRQ_CTRLACK", |r| {
            r.read32(regs::IRQ_CTRLACK) == 0
        })?;

        let coherent = options.coherent && features.coherent;
        stream_table.reset(coherent);
        for i in 0..cmdq.len() {
            cmdq.write(i, [0; 2]);
        }
        for i in 0..evtq.len() {
            evtq.write(i, [0; 4]);
        }
        if !coherent {
            cmdq.clean(None);
            evtq.clean(None);
        }
        dma_wmb();

        let attrs = if coherent {
            Cr1Attrs::CoherentWriteBack
        } else {
            Cr1Attrs::NonCacheable
        };
        regs.write32(regs::CR1, regs::cr1(attrs));
        regs.write32(regs::CR2, regs::CR2_RECINVSID | regs::CR2_PTM);

        let (strtab_base, strtab_cfg) = stream_table.registers(strtab_log2);
        regs.write64(regs::STRTAB_BASE, strtab_base);
        regs.write32(regs::STRTAB_BASE_CFG, strtab_cfg);
        regs.write64(
            regs::CMDQ_BASE,
            regs::queue_base(cmdq.phys(), cmdq_geo.log2size()),
        );
        regs.write32(regs::CMDQ_PROD, 0);
        regs.write32(regs::CMDQ_CONS, 0);
        regs.write64(
            regs::EVTQ_BASE,
            regs::queue_base(evtq.phys(), evtq_geo.log2size()),
        );
        regs.write32(regs::EVTQ_PROD, 0);
        regs.write32(regs::EVTQ_CONS, 0);

        let mut smmu = Smmuv3 {
            regs,
            features,
            options,
            strtab: stream_table,
            cmdq,
            cmdq_geo,
            cmdq_prod: 0,
            evtq,
            evtq_geo,
            coherent,
            cmd_error: None,
        };
        // From here on the SMMU may read the caller's memory: a failure must
        // not leave it doing so.
        if let Err(e) = smmu.start() {
            smmu.disable();
            return Err(e);
        }
        Ok(smmu)
    }

    /// Enables the command queue, invalidates everything cached, then
    /// enables the event queue and translation.
    fn start(&mut self) -> Result<(), Error> {
        self.write_cr0(cr0::CMDQEN)?;
        self.submit(&[Command::CfgiAll])?;
        if self.features.hyp {
            self.submit(&[Command::TlbiEl2All])?;
        }
        self.submit(&[Command::TlbiNsnhAll])?;
        self.sync()?;
        self.write_cr0(cr0::CMDQEN | cr0::EVTQEN)?;
        self.write_cr0(cr0::CMDQEN | cr0::EVTQEN | cr0::SMMUEN)
    }

    /// Clears every CR0 enable and waits for CR0ACK to follow, so the SMMU
    /// stops reading and writing the queues and tables. A wedged SMMU that
    /// never acknowledges is left as it is (the caller gets the first error).
    fn disable(&mut self) {
        self.regs.write32(regs::CR0, 0);
        let _ = poll(
            &self.regs,
            self.options.spin_limit,
            "CR0ACK (disable)",
            |r| r.read32(regs::CR0ACK) == 0,
        );
    }

    fn write_cr0(&mut self, value: u32) -> Result<(), Error> {
        self.regs.write32(regs::CR0, value);
        poll(&self.regs, self.options.spin_limit, "CR0ACK", |r| {
            r.read32(regs::CR0ACK) == value
        })
    }

    pub fn features(&self) -> &Features {
        &self.features
    }
    /// Whether the SMMU's accesses are cache-coherent (both the node and
    /// IDR0.COHACC say so); otherwise the driver does cache maintenance.
    pub fn coherent(&self) -> bool {
        self.coherent
    }
    pub fn registers(&self) -> &R {
        &self.regs
    }
    pub fn registers_mut(&mut self) -> &mut R {
        &mut self.regs
    }
    /// Number of STEs in the stream table.
    pub fn stream_table_entries(&self) -> usize {
        self.strtab.entries()
    }
    /// The STE of `sid` as the SMMU would read it now.
    pub fn ste(&self, sid: u32) -> Option<Ste> {
        let (array, i) = self.strtab.locate(sid).ok()?;
        array.read(i)
    }

    /// For a two-level stream table: the number of STEs (2^SPLIT) of the
    /// level-2 array `sid` still needs, or `None` when its STE exists (or
    /// the table is linear).
    pub fn level2_needed(&self, sid: u32) -> Option<usize> {
        self.strtab.missing_l2(sid).map(|(_, n, _)| n)
    }

    /// Installs `array` (2^SPLIT STEs, aligned to its size, caller memory)
    /// as the level-2 table of `sid`'s group: every STE abort, then the
    /// level-1 descriptor, then CFGI_STE_RANGE over the group and a sync.
    pub fn install_l2(&mut self, sid: u32, array: DmaSlice<'a, Ste>) -> Result<(), Error> {
        let (l1, _, first) = self.strtab.missing_l2(sid).ok_or(Error::BadMemory(
            "level-2 array already present (or linear table)",
        ))?;
        self.strtab.install(l1, array, self.coherent)?;
        dma_wmb();
        let split = self.strtab.split().unwrap_or(1);
        self.submit(&[Command::CfgiSteRange {
            sid: first,
            range: split - 1,
        }])?;
        self.sync()
    }

    /// Replaces the STE of `sid` and makes the SMMU use it, so that no
    /// fetch of the entry at any moment sees a mix of old and new dwords
    /// that means something else: an entry the SMMU reads dwords 1..7 of
    /// ("live": valid and not abort) is published dword 0 last, over an
    /// entry that is not live; an entry that is not live is published dword
    /// 0 first, after which dwords 1..7 are ignored. A live entry replaced by
    /// another live one is first made abort (break before make).
    pub fn set_ste(&mut self, sid: u32, ste: Ste) -> Result<(), Error> {
        let old = {
            let (array, i) = self.strtab.locate(sid)?;
            array.read(i).ok_or(Error::StreamIdOutOfRange(sid))?
        };
        if ste_is_live(&old) && ste_is_live(&ste) && old != ste {
            self.publish_ste(sid, Ste::abort(), Publish::Dword0First)?;
            self.submit(&[Command::CfgiSte { sid, leaf: true }])?;
            self.sync()?;
        }
        let order = if ste_is_live(&ste) {
            Publish::Dword0Last
        } else {
            Publish::Dword0First
        };
        self.publish_ste(sid, ste, order)?;
        self.submit(&[
            Command::CfgiSte { sid, leaf: true },
            Command::CfgiCdAll { sid },
        ])?;
        self.sync()
    }

    fn publish_ste(&mut self, sid: u32, ste: Ste, order: Publish) -> Result<(), Error> {
        let coherent = self.coherent;
        let (array, i) = self.strtab.locate_mut(sid)?;
        array.publish(i, ste.0, order, coherent);
        Ok(())
    }

    /// Makes `sid` translate through stage 1 with the single context
    /// descriptor `cd`, stored in `cd_table[0]` (the memory the STE points
    /// at; 64-byte aligned).
    pub fn attach_stage1(
        &mut self,
        sid: u32,
        cd_table: &mut DmaSlice<'_, ContextDescriptor>,
        cd: ContextDescriptor,
    ) -> Result<(), Error> {
        if cd_table.is_empty() || cd_table.phys() % 64 != 0 {
            return Err(Error::BadMemory("context descriptor"));
        }
        // Rewriting the CD the STE points at now would let the SMMU fetch a
        // mix of the old and new CD: stop the stream first.
        let current = self.ste(sid);
        if current.is_some_and(|s| ste_is_live(&s) && s.cd_pointer() == cd_table.phys()) {
            self.set_ste(sid, Ste::abort())?;
        }
        cd_table.publish(0, cd.0, Publish::Dword0Last, self.coherent);
        let fetch = if self.coherent {
            CdFetchAttrs::WriteBack
        } else {
            CdFetchAttrs::NonCacheable
        };
        self.set_ste(sid, Ste::stage1(cd_table.phys(), fetch))?;
        // The STE may have been unchanged while the CD changed.
        self.submit(&[Command::CfgiCd {
            sid,
            ssid: 0,
            leaf: true,
        }])?;
        self.sync()
    }

    /// Stops `sid`'s transactions (abort, no events).
    pub fn detach(&mut self, sid: u32) -> Result<(), Error> {
        self.set_ste(sid, Ste::abort())
    }

    /// Invalidates the TLB entries of `asid` that cover `[iova, iova + size)`
    /// and waits for completion. `stride` is the size of the leaf entries
    /// that were removed (used when the SMMU lacks range invalidation).
    pub fn invalidate_range(
        &mut self,
        asid: u16,
        iova: u64,
        size: u64,
        granule: Granule,
        stride: u64,
    ) -> Result<(), Error> {
        self.queue_invalidate_range(asid, iova, size, granule, stride, true)?;
        self.sync()
    }

    /// Queues the TLBI_NH_VA commands for `[iova, iova + size)` without
    /// waiting: a page-table engine batches these and calls [`Self::sync`]
    /// once. `leaf = false` also removes cached table (walk) entries.
    pub fn queue_invalidate_range(
        &mut self,
        asid: u16,
        iova: u64,
        size: u64,
        granule: Granule,
        stride: u64,
        leaf: bool,
    ) -> Result<(), Error> {
        let ranged = self.features.range_invalidation;
        let mut batch = [Command::Sync; 16];
        let mut n = 0;
        for c in TlbiVaRange::new(asid, iova, size, granule, stride, leaf, ranged) {
            batch[n] = c;
            n += 1;
            if n == batch.len() {
                self.submit(&batch)?;
                n = 0;
            }
        }
        self.submit(&batch[..n])
    }

    /// Invalidates every TLB entry of `asid` and waits.
    pub fn invalidate_asid(&mut self, asid: u16) -> Result<(), Error> {
        self.submit(&[Command::TlbiNhAsid { vmid: 0, asid }])?;
        self.sync()
    }

    /// Global errors currently active (SMMU_GERROR ^ SMMU_GERRORN).
    pub fn global_errors(&self) -> u32 {
        self.regs.read32(regs::GERROR) ^ self.regs.read32(regs::GERRORN)
    }

    /// Hands every pending event to `sink`, oldest first, then frees the
    /// entries and acknowledges an overflow.
    pub fn drain_events(&mut self, mut sink: impl FnMut(Event)) -> DrainStats {
        let geo = self.evtq_geo;
        let mut stats = DrainStats::default();
        let mut cons = self.regs.read32(regs::EVTQ_CONS);
        // Bounded: at most two queue-fulls, even if the SMMU keeps writing.
        let mut budget = 2 * geo.entries();
        loop {
            let prod = self.regs.read32(regs::EVTQ_PROD);
            if geo.is_empty(prod, cons) || budget == 0 {
                let ovf = prod & EVTQ_OVERFLOW;
                stats.overflowed |= ovf != cons & EVTQ_OVERFLOW;
                cons = geo.position(cons) | ovf;
                self.regs.write32(regs::EVTQ_CONS, cons);
                return stats;
            }
            while !geo.is_empty(prod, cons) && budget > 0 {
                let slot = geo.index(cons) as usize;
                if !self.coherent {
                    self.evtq.invalidate(slot);
                }
                if let Some(raw) = self.evtq.read(slot) {
                    sink(Event::decode(&raw));
                    stats.events += 1;
                }
                cons = geo.next(cons) | (cons & EVTQ_OVERFLOW);
                budget -= 1;
            }
            // Free the slots before looking again.
            self.regs.write32(regs::EVTQ_CONS, cons);
        }
    }
}

/// The SMMU reads dwords 1..7 of this STE (it is valid and not abort).
fn ste_is_live(ste: &Ste) -> bool {
    ste.valid() && ste.config() != StreamConfig::Abort
}

/// Sets `set` in SMMU_GBPA: waits for a previous update to finish (a
/// write while UPDATE is set may be lost), keeps the other fields, writes
/// with UPDATE set and waits for the SMMU to clear it.
fn update_gbpa<R: RegisterIo>(regs: &mut R, set: u32, limit: u32) -> Result<(), Error> {
    let idle = |r: &R| r.read32(regs::GBPA) & gbpa::UPDATE == 0;
    poll(regs, limit, "GBPA idle", idle)?;
    let value = regs.read32(regs::GBPA) | set | gbpa::UPDATE;
    regs.write32(regs::GBPA, value);
    poll(regs, limit, "GBPA update", idle)
}

fn check_features(f: &Features) -> Result<(), Error> {
    if !f.stage1 {
        return Err(Error::Unsupported("stage-1 translation"));
    }
    if !f.aarch64_tables {
        return Err(Error::Unsupported("the AArch64 table format"));
    }
    if !f.little_endian_walks() {
        return Err(Error::Unsupported("little-endian table walks"));
    }
    if f.preset {
        return Err(Error::Unsupported("programmable queue and table bases"));
    }
    Ok(())
}

mod cmdq;

#[cfg(test)]
mod tests;

/// Shared by the tests of other modules of `smmuv3`.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::smmuv3::fake::FakeSmmu;

    /// An SMMU enabled on the QEMU-like model with small tables.
    pub fn enabled_fake() -> Smmuv3<'static, FakeSmmu> {
        tests::enabled(FakeSmmu::qemu_like())
    }
}
