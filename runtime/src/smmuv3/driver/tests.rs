extern crate std;

use std::alloc::{alloc_zeroed, Layout};
use std::vec::Vec;

use super::*;
use crate::smmuv3::cd::Stage1Config;
use crate::smmuv3::event::EventKind;
use crate::smmuv3::fake::FakeSmmu;
use crate::smmuv3::regs::gerror;
use crate::smmuv3::strtab::{l1_descriptor, StreamTable, StreamTableLayout, TwoLevel};

/// Zeroed memory aligned to its size, leaked for the test's duration.
pub(crate) fn dma<T: Copy>(entries: usize) -> DmaSlice<'static, T> {
    let bytes = entries * core::mem::size_of::<T>();
    let layout = Layout::from_size_align(bytes, bytes.next_power_of_two().max(64)).unwrap();
    // SAFETY: non-zero size; zeroed bytes are valid for the plain-integer
    // entry types used here; leaked, so 'static.
    let slice = unsafe {
        let p = alloc_zeroed(layout) as *mut T;
        core::slice::from_raw_parts_mut(p, entries)
    };
    let slice = DmaSlice::identity(slice);
    crate::smmuv3::fake::add_ram(&slice);
    slice
}

pub(crate) fn memory(strtab: usize, cmdq: usize, evtq: usize) -> Memory<'static> {
    Memory {
        stream_table: StreamTable::Linear(dma(strtab)),
        cmdq: dma(cmdq),
        evtq: dma(evtq),
    }
}

pub(crate) fn enabled(fake: FakeSmmu) -> Smmuv3<'static, FakeSmmu> {
    let f = read_features(&fake);
    Smmuv3::enable(fake, f, memory(256, 8, 16), Options::default()).unwrap()
}

pub(crate) fn commands(s: &Smmuv3<'_, FakeSmmu>) -> Vec<Command> {
    s.registers().seen().iter().map(|s| s.command).collect()
}

#[test]
fn bring_up_programs_tables_then_invalidates_then_enables() {
    let smmu = enabled(FakeSmmu::qemu_like());
    let fake = smmu.registers();
    assert_eq!(fake.get(regs::CR0), cr0::SMMUEN | cr0::EVTQEN | cr0::CMDQEN);
    // Linear table of 2^8 STEs at the slice's address.
    assert_eq!(fake.get(regs::STRTAB_BASE_CFG), 8);
    let base = fake.read64(regs::STRTAB_BASE);
    assert_eq!(base & regs::BASE_ALLOCATE_HINT, regs::BASE_ALLOCATE_HINT);
    let StreamTable::Linear(table) = &smmu.strtab else {
        panic!("linear table expected")
    };
    assert_eq!(base & regs::BASE_ADDR_MASK, table.phys());
    // Queue sizes: 2^3 commands, 2^4 events.
    assert_eq!(fake.read64(regs::CMDQ_BASE) & 0x1f, 3);
    assert_eq!(fake.read64(regs::EVTQ_BASE) & 0x1f, 4);
    // Coherent SMMU: write-back inner-shareable queues and tables.
    assert_eq!(
        fake.get(regs::CR1),
        regs::cr1(regs::Cr1Attrs::CoherentWriteBack)
    );
    // Every base register was written while CR0 was zero.
    for &(off, _, cr0_then) in &fake.writes {
        if matches!(
            off,
            regs::STRTAB_BASE | regs::STRTAB_BASE_CFG | regs::CMDQ_BASE | regs::EVTQ_BASE
        ) {
            assert_eq!(
                cr0_then, 0,
                "base {off:#x} written with CR0 = {cr0_then:#x}"
            );
        }
    }
    // The invalidations ran with only the command queue enabled.
    assert_eq!(
        commands(&smmu),
        [Command::CfgiAll, Command::TlbiNsnhAll, Command::Sync]
    );
    let order: Vec<u32> = fake
        .writes
        .iter()
        .filter(|w| w.0 == regs::CR0)
        .map(|w| w.1 as u32)
        .collect();
    assert_eq!(
        order,
        [
            0,
            cr0::CMDQEN,
            cr0::CMDQEN | cr0::EVTQEN,
            cr0::CMDQEN | cr0::EVTQEN | cr0::SMMUEN
        ]
    );
    // Every StreamID starts isolated.
    for sid in 0..256 {
        assert_eq!(smmu.ste(sid), Some(Ste::abort()));
    }
    assert_eq!(smmu.ste(256), None);
}

#[test]
fn refuses_unusable_smmus_and_memory() {
    let no_s1 = FakeSmmu::qemu_like();
    no_s1.set(regs::IDR0, no_s1.get(regs::IDR0) & !(1 << 1));
    let f = read_features(&no_s1);
    let e = Smmuv3::enable(no_s1, f, memory(16, 8, 16), Options::default()).unwrap_err();
    assert_eq!(e, Error::Unsupported("stage-1 translation"));

    let fake = FakeSmmu::qemu_like();
    let f = read_features(&fake);
    // Not a power of two.
    let e = Smmuv3::enable(fake, f, memory(24, 8, 16), Options::default()).unwrap_err();
    assert_eq!(e, Error::BadMemory("stream table"));

    let small = FakeSmmu::qemu_like();
    small.set(regs::IDR1, 4 | (19 << 16) | (2 << 21)); // SIDSIZE 4, CMDQS 2
    let f = read_features(&small);
    assert_eq!(
        Smmuv3::enable(small, f, memory(32, 4, 16), Options::default()).unwrap_err(),
        Error::BadMemory("stream table")
    );
    let small = FakeSmmu::qemu_like();
    let mut f = read_features(&small);
    f.cmdq_max_log2 = 2;
    assert_eq!(
        Smmuv3::enable(small, f, memory(16, 8, 16), Options::default()).unwrap_err(),
        Error::BadMemory("command queue")
    );

    // Misaligned queue: a 4-entry queue (64 bytes) at a 32-byte offset.
    let fake = FakeSmmu::qemu_like();
    let f = read_features(&fake);
    let mut mem = memory(16, 8, 16);
    let backing: &'static mut [[u64; 2]] =
        std::boxed::Box::leak(std::vec![[0u64; 2]; 8].into_boxed_slice());
    let phys = (backing.as_ptr().addr() as u64 | 0x20) & !0x1f;
    mem.cmdq = DmaSlice::new(&mut backing[..4], phys | 0x20);
    assert_eq!(
        Smmuv3::enable(fake, f, mem, Options::default()).unwrap_err(),
        Error::BadMemory("command queue")
    );
}

#[test]
fn stream_table_size_follows_tree_and_sidsize() {
    let f = read_features(&FakeSmmu::qemu_like());
    // iommu-map covering RIDs 0..=0xffff needs 16 bits: 2^16 STEs, 4 MiB.
    let s = StreamTableSize::for_max_stream_id(&f, 0xffff);
    assert_eq!((s.log2_entries, s.bytes()), (16, 4 << 20));
    // One device at RID 8 needs 4 bits.
    assert_eq!(StreamTableSize::for_max_stream_id(&f, 8).log2_entries, 4);
    // Never more than SIDSIZE.
    assert_eq!(
        StreamTableSize::for_max_stream_id(&f, u32::MAX).log2_entries,
        16
    );
}

pub(crate) fn cd_for(asid: u16) -> ContextDescriptor {
    ContextDescriptor::stage1(&Stage1Config {
        ttb0: 0x4000_0000 + asid as u64 * 0x1000,
        ias: 48,
        oas: 44,
        granule: Granule::G4K,
        coherent_walk: true,
        asid,
        mair: 0xff44,
    })
}

#[test]
fn attaching_writes_cd_then_ste_then_invalidates() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(8, &mut cds, cd_for(1)).unwrap();
    assert_eq!(cds.read(0), Some(cd_for(1)));
    let ste = smmu.ste(8).unwrap();
    assert_eq!(ste, Ste::stage1(cds.phys(), CdFetchAttrs::WriteBack));
    let seen = smmu.registers().seen();
    let seen = &seen[3..];
    // CFGI_STE saw the new STE already in memory.
    assert_eq!(seen[0].command, Command::CfgiSte { sid: 8, leaf: true });
    assert_eq!(seen[0].ste_at_cfgi, Some(ste));
    let rest: Vec<Command> = seen[1..].iter().map(|s| s.command).collect();
    assert_eq!(
        rest,
        [
            Command::CfgiCdAll { sid: 8 },
            Command::Sync,
            Command::CfgiCd {
                sid: 8,
                ssid: 0,
                leaf: true
            },
            Command::Sync
        ]
    );
    assert_eq!(
        smmu.attach_stage1(256, &mut cds, cd_for(1)),
        Err(Error::StreamIdOutOfRange(256))
    );
}

#[test]
fn replacing_a_live_ste_breaks_before_making() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    let mut cd_a: DmaSlice<'static, ContextDescriptor> = dma(1);
    let mut cd_b: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(3, &mut cd_a, cd_for(1)).unwrap();
    let before = smmu.registers().seen().len();
    smmu.attach_stage1(3, &mut cd_b, cd_for(2)).unwrap();
    let cfgis: Vec<Ste> = smmu.registers().seen()[before..]
        .iter()
        .filter_map(|s| s.ste_at_cfgi)
        .collect();
    assert_eq!(cfgis.len(), 2);
    assert_eq!(cfgis[0], Ste::abort());
    assert_eq!(cfgis[1].cd_pointer(), cd_b.phys());
    // Detaching isolates the stream again.
    smmu.detach(3).unwrap();
    assert_eq!(smmu.ste(3), Some(Ste::abort()));
}

#[test]
fn command_errors_are_reported_and_the_queue_recovers() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    smmu.registers_mut()
        .reject_opcode
        .set(Some(crate::smmuv3::cmd::opcode::TLBI_NH_ASID));
    let e = smmu.invalidate_asid(4).unwrap_err();
    assert_eq!(
        e,
        Error::Command {
            error: CommandError::Illegal,
            opcode: crate::smmuv3::cmd::opcode::TLBI_NH_ASID
        }
    );
    assert_eq!(
        smmu.global_errors() & gerror::CMDQ_ERR,
        0,
        "error acknowledged"
    );
    // The queue moves again, although CONS.ERR still holds the old code.
    assert_ne!(smmu.registers().get(regs::CMDQ_CONS) >> 24, 0);
    smmu.invalidate_asid(5).unwrap();
    assert_eq!(*commands(&smmu).last().unwrap(), Command::Sync,);
    assert!(commands(&smmu).contains(&Command::TlbiNhAsid { vmid: 0, asid: 5 }));
}

#[test]
fn many_commands_wrap_a_small_queue() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    // 8-entry queue; 40 single-page invalidations without range support.
    smmu.features.range_invalidation = false;
    smmu.invalidate_range(9, 0x10_0000, 40 << 12, Granule::G4K, 4096)
        .unwrap();
    let vas: Vec<u64> = commands(&smmu)
        .iter()
        .filter_map(|c| match c {
            Command::TlbiNhVa {
                asid: 9,
                addr,
                range: None,
                leaf: true,
                ..
            } => Some(*addr),
            _ => None,
        })
        .collect();
    let want: Vec<u64> = (0..40).map(|i| 0x10_0000 + (i << 12)).collect();
    assert_eq!(vas, want);
    assert_eq!(*commands(&smmu).last().unwrap(), Command::Sync);
}

#[test]
fn ranged_invalidation_is_used_when_available() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    smmu.invalidate_range(1, 0x20_0000, 0x20_0000, Granule::G4K, 0x20_0000)
        .unwrap();
    let n = commands(&smmu).len();
    // 512 pages = 1 << 9: one command, NUM = 0, SCALE = 9.
    assert_eq!(
        commands(&smmu)[n - 2],
        Command::TlbiNhVa {
            vmid: 0,
            asid: 1,
            addr: 0x20_0000,
            leaf: true,
            range: Some(crate::smmuv3::cmd::TlbiRange {
                granule: Granule::G4K,
                scale: 9,
                num: 0
            })
        }
    );
}

#[test]
fn events_are_drained_decoded_and_freed() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    for i in 0..3u64 {
        smmu.registers_mut()
            .inject_event([0x10 | (8 << 32), 0, 0x1000 * (i + 1), 0]);
    }
    let mut got = Vec::new();
    let stats = smmu.drain_events(|e| got.push(e));
    assert_eq!(
        stats,
        DrainStats {
            events: 3,
            overflowed: false
        }
    );
    assert!(got
        .iter()
        .all(|e| e.kind == EventKind::Translation && e.stream_id == 8));
    let addrs: Vec<u64> = got.iter().map(|e| e.input_address.unwrap()).collect();
    assert_eq!(addrs, [0x1000, 0x2000, 0x3000]);
    let fake = smmu.registers();
    assert_eq!(fake.get(regs::EVTQ_CONS), fake.get(regs::EVTQ_PROD));
    assert_eq!(smmu.drain_events(|_| panic!("no more events")).events, 0);
}

#[test]
fn event_overflow_is_reported_and_acknowledged() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    // 16-entry queue, 20 events: 4 dropped.
    for i in 0..20u64 {
        smmu.registers_mut()
            .inject_event([0x13 | (1 << 32), 0, i << 12, 0]);
    }
    let stats = smmu.drain_events(|_| {});
    assert_eq!(
        stats,
        DrainStats {
            events: 16,
            overflowed: true
        }
    );
    let fake = smmu.registers();
    assert_eq!(
        fake.get(regs::EVTQ_CONS) >> 31,
        fake.get(regs::EVTQ_PROD) >> 31
    );
    // Acknowledged: the next drain reports no overflow, and the queue wraps.
    smmu.registers_mut().inject_event([0x10, 0, 0x5000, 0]);
    let mut last = None;
    assert_eq!(
        smmu.drain_events(|e| last = e.input_address),
        DrainStats {
            events: 1,
            overflowed: false
        }
    );
    assert_eq!(last, Some(0x5000));
}

#[test]
fn a_wedged_smmu_times_out_instead_of_hanging() {
    let quick = Options {
        spin_limit: 100,
        ..Options::default()
    };
    // CR0ACK never follows CR0. The first write clears CR0 (already 0, so
    // acknowledged); enabling the command queue is the first to hang.
    let mut fake = FakeSmmu::qemu_like();
    fake.ignore_cr0 = true;
    let f = read_features(&fake);
    assert_eq!(
        Smmuv3::enable(fake, f, memory(16, 8, 16), quick).unwrap_err(),
        Error::Timeout("CR0ACK")
    );

    // The command queue never moves: the bring-up's CMD_SYNC times out.
    let mut fake = FakeSmmu::qemu_like();
    fake.stall_cmdq = true;
    let f = read_features(&fake);
    assert_eq!(
        Smmuv3::enable(fake, f, memory(16, 8, 16), quick).unwrap_err(),
        Error::Timeout("CMD_SYNC")
    );

    // A queue that stalls later: submissions beyond its 8 slots wait for
    // room, then give up.
    let mut smmu = enabled(FakeSmmu::qemu_like());
    smmu.options.spin_limit = 100;
    smmu.registers_mut().stall_cmdq = true;
    smmu.features.range_invalidation = false;
    assert_eq!(
        smmu.invalidate_range(1, 0, 16 << 12, Granule::G4K, 4096),
        Err(Error::Timeout("command queue space"))
    );
}

#[test]
fn a_non_coherent_smmu_gets_non_cacheable_attributes() {
    // The node is not `dma-coherent`: queues, tables and CD fetches are
    // non-cacheable, and the driver does cache maintenance (a no-op on the
    // host, `dc cvac`/`dc civac` on aarch64).
    let fake = FakeSmmu::qemu_like();
    let f = read_features(&fake);
    let options = Options {
        coherent: false,
        ..Options::default()
    };
    let mut smmu = Smmuv3::enable(fake, f, memory(16, 8, 16), options).unwrap();
    assert!(!smmu.coherent());
    assert_eq!(
        smmu.registers().get(regs::CR1),
        regs::cr1(regs::Cr1Attrs::NonCacheable)
    );
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(2, &mut cds, cd_for(1)).unwrap();
    assert_eq!(
        smmu.ste(2),
        Some(Ste::stage1(cds.phys(), CdFetchAttrs::NonCacheable))
    );
    // An SMMU without COHACC is non-coherent whatever the tree says.
    let fake = FakeSmmu::qemu_like();
    fake.set(regs::IDR0, fake.get(regs::IDR0) & !(1 << 4));
    let f = read_features(&fake);
    let smmu = Smmuv3::enable(fake, f, memory(16, 8, 16), Options::default()).unwrap();
    assert!(!smmu.coherent());
}

#[test]
fn a_tree_with_only_stream_id_0_gets_a_one_entry_table() {
    let fake = FakeSmmu::qemu_like();
    let f = read_features(&fake);
    let size = StreamTableSize::for_max_stream_id(&f, 0);
    assert_eq!(
        (size.log2_entries, size.entries(), size.bytes()),
        (0, 1, 64)
    );
    let mut smmu = Smmuv3::enable(fake, f, memory(1, 8, 16), Options::default()).unwrap();
    assert_eq!(smmu.registers().get(regs::STRTAB_BASE_CFG), 0);
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(0, &mut cds, cd_for(1)).unwrap();
    assert_eq!(
        smmu.attach_stage1(1, &mut cds, cd_for(1)),
        Err(Error::StreamIdOutOfRange(1))
    );
}

#[test]
fn layout_is_linear_when_small_and_two_level_when_large() {
    let mut f = read_features(&FakeSmmu::qemu_like());
    let big = StreamTableLayout::choose(&f, 0xffff);
    assert_eq!(
        big,
        StreamTableLayout::TwoLevel {
            log2_entries: 16,
            split: 8
        }
    );
    // 2^16 StreamIDs: 2^8 level-1 descriptors of 8 bytes.
    assert_eq!((big.top_entries(), big.top_bytes()), (256, 2048));
    // Up to 2^10 STEs (64 KiB) stay linear.
    let small = StreamTableLayout::choose(&f, 0x3ff);
    assert_eq!(small, StreamTableLayout::Linear { log2_entries: 10 });
    assert_eq!(small.top_bytes(), 64 << 10);
    f.two_level_strtab = false;
    assert_eq!(
        StreamTableLayout::choose(&f, 0xffff),
        StreamTableLayout::Linear { log2_entries: 16 }
    );
}

#[test]
fn two_level_tables_get_level2_arrays_on_demand() {
    let fake = FakeSmmu::qemu_like();
    let f = read_features(&fake);
    let l1: DmaSlice<'static, u64> = dma(256);
    let l1_phys = l1.phys();
    let slots: &'static mut [Option<DmaSlice<'static, Ste>>] = std::boxed::Box::leak(
        (0..256)
            .map(|_| None)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let table = TwoLevel::new(l1, 8, slots).unwrap();
    let mem = Memory {
        stream_table: StreamTable::TwoLevel(table),
        cmdq: dma(8),
        evtq: dma(16),
    };
    let mut smmu = Smmuv3::enable(fake, f, mem, Options::default()).unwrap();
    // FMT = 2-level, SPLIT = 8, LOG2SIZE = 16.
    assert_eq!(
        smmu.registers().get(regs::STRTAB_BASE_CFG),
        (1 << 16) | (8 << 6) | 16
    );
    assert_eq!(
        smmu.registers().read64(regs::STRTAB_BASE) & regs::BASE_ADDR_MASK,
        l1_phys
    );
    assert_eq!(smmu.stream_table_entries(), 0);
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    assert_eq!(
        smmu.attach_stage1(0x110, &mut cds, cd_for(1)),
        Err(Error::NoLevel2(0x110))
    );
    assert_eq!(smmu.level2_needed(0x110), Some(256));

    let array: DmaSlice<'static, Ste> = dma(256);
    let array_phys = array.phys();
    smmu.install_l2(0x110, array).unwrap();
    assert_eq!(smmu.level2_needed(0x110), None);
    assert_eq!(smmu.stream_table_entries(), 256);
    // Level-1 descriptor 1 (StreamIDs 0x100..0x1ff): pointer | Span 9.
    let desc: u64 = crate::smmuv3::fake::read_phys(l1_phys + 8);
    assert_eq!(desc, l1_descriptor(array_phys, 8));
    assert_eq!(desc, array_phys | 9);
    // The group's cached STEs were invalidated: Range 7 = 2^8 StreamIDs.
    let cmds = commands(&smmu);
    let n = cmds.len();
    assert_eq!(
        cmds[n - 2..],
        [
            Command::CfgiSteRange {
                sid: 0x100,
                range: 7
            },
            Command::Sync
        ]
    );

    smmu.attach_stage1(0x110, &mut cds, cd_for(1)).unwrap();
    let want = Ste::stage1(cds.phys(), CdFetchAttrs::WriteBack);
    assert_eq!(smmu.ste(0x110), Some(want));
    // The model walks level 1 then level 2 and finds the same STE.
    assert_eq!(smmu.registers().ste(0x110), want);
    assert_eq!(smmu.ste(0x10f), Some(Ste::abort()));
    // Another group still has no array.
    assert_eq!(smmu.ste(0x210), None);
    assert_eq!(
        smmu.install_l2(0x1ff, dma(256)),
        Err(Error::BadMemory(
            "level-2 array already present (or linear table)"
        ))
    );
    // Wrong sizes are refused.
    assert_eq!(
        smmu.install_l2(0x300, dma(128)),
        Err(Error::BadMemory("level-2 stream table"))
    );
}

mod recovery;
mod ste_update;
