//! Bring-up and command-queue failures, against a model that misbehaves on
//! purpose: a held GBPA.UPDATE, a step whose acknowledgement never comes,
//! a refused command, and a queue consumed only after some polls.

use super::*;
use crate::smmuv3::cmd::opcode;

fn quick() -> Options {
    Options {
        spin_limit: 100,
        ..Options::default()
    }
}

/// GBPA.SHCFG = 0b01 (use incoming), set by firmware; must survive.
const GBPA_SHCFG_INCOMING: u32 = 1 << 12;

#[test]
fn gbpa_is_written_only_once_a_pending_update_completed() {
    let mut fake = FakeSmmu::qemu_like();
    fake.set(regs::GBPA, GBPA_SHCFG_INCOMING);
    // Firmware's own update is still in flight, and each takes 5 reads.
    fake.gbpa_busy.set(5);
    fake.gbpa_hold = 5;
    let f = read_features(&fake);
    Smmuv3::enable(&mut fake, f, memory(16, 8, 16), Options::default()).unwrap();
    assert_eq!(fake.gbpa_lost.get(), 0, "a GBPA write was made too early");
    assert_eq!(fake.get(regs::GBPA), GBPA_SHCFG_INCOMING | gbpa::ABORT);
    // The driver waited for its own update too.
    assert_eq!(fake.gbpa_busy.get(), 0);
}

#[test]
fn a_gbpa_update_that_never_completes_times_out_without_writing() {
    let mut fake = FakeSmmu::qemu_like();
    fake.gbpa_busy.set(u32::MAX);
    let f = read_features(&fake);
    let e = Smmuv3::enable(&mut fake, f, memory(16, 8, 16), quick()).unwrap_err();
    assert_eq!(e, Error::Timeout("GBPA idle"));
    assert_eq!(fake.gbpa_lost.get(), 0);
    assert!(!fake.writes.iter().any(|w| w.0 == regs::GBPA));
}

/// The SMMU was left with every enable clear and acknowledged, and the last
/// CR0 write the driver made was that.
fn assert_disabled(fake: &FakeSmmu) {
    assert_eq!(fake.get(regs::CR0), 0);
    assert_eq!(fake.get(regs::CR0ACK), 0);
    let last = fake.writes.iter().rev().find(|w| w.0 == regs::CR0);
    assert_eq!(last.map(|w| w.1), Some(0));
}

#[test]
fn a_bring_up_failing_after_an_enable_disables_everything() {
    type Setup = fn(&mut FakeSmmu);
    let cases: [(Setup, Error); 5] = [
        // The command queue's enable is never acknowledged.
        (
            |f| f.refuse_cr0 = Some(cr0::CMDQEN),
            Error::Timeout("CR0ACK"),
        ),
        // The bring-up's CMD_SYNC never completes.
        (|f| f.stall_cmdq = true, Error::Timeout("CMD_SYNC")),
        // CFGI_ALL is refused: the caches were not invalidated.
        (
            |f| f.reject_opcode.set(Some(opcode::CFGI_STE_RANGE)),
            Error::Command {
                error: CommandError::Illegal,
                opcode: opcode::CFGI_STE_RANGE,
            },
        ),
        // The event queue's enable is never acknowledged.
        (
            |f| f.refuse_cr0 = Some(cr0::CMDQEN | cr0::EVTQEN),
            Error::Timeout("CR0ACK"),
        ),
        // Translation's enable is never acknowledged.
        (
            |f| f.refuse_cr0 = Some(cr0::CMDQEN | cr0::EVTQEN | cr0::SMMUEN),
            Error::Timeout("CR0ACK"),
        ),
    ];
    for (k, (setup, want)) in cases.into_iter().enumerate() {
        let mut fake = FakeSmmu::qemu_like();
        setup(&mut fake);
        let f = read_features(&fake);
        let e = Smmuv3::enable(&mut fake, f, memory(16, 8, 16), quick()).unwrap_err();
        assert_eq!(e, want, "case {k}");
        assert_disabled(&fake);
    }
}

#[test]
fn a_wedged_smmu_is_still_told_to_disable() {
    // CR0ACK never follows CR0: the driver writes CR0 = 0 and gives up
    // waiting, with the first error.
    let mut fake = FakeSmmu::qemu_like();
    fake.ignore_cr0 = true;
    let f = read_features(&fake);
    let e = Smmuv3::enable(&mut fake, f, memory(16, 8, 16), quick()).unwrap_err();
    assert_eq!(e, Error::Timeout("CR0ACK"));
    assert_eq!(fake.get(regs::CR0), 0);
}

/// CMDQ_CONS has caught up with CMDQ_PROD (index and wrap of an 8-entry queue).
fn drained(fake: &FakeSmmu) -> bool {
    fake.get(regs::CMDQ_CONS) & 0xf == fake.get(regs::CMDQ_PROD) & 0xf
}

#[test]
fn after_a_command_error_sync_waits_for_the_resumed_commands() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    // The model consumes only after 3 polls, before and after recovery.
    smmu.registers_mut().cmdq_latency = 3;
    smmu.registers_mut()
        .reject_opcode
        .set(Some(opcode::TLBI_NH_ASID));
    let before = smmu.registers().seen().len();
    let e = smmu.invalidate_asid(4).unwrap_err();
    assert_eq!(
        e,
        Error::Command {
            error: CommandError::Illegal,
            opcode: opcode::TLBI_NH_ASID
        }
    );
    assert!(
        drained(smmu.registers()),
        "returned before the queue drained"
    );
    let after: Vec<Command> = commands(&smmu)[before..].to_vec();
    // The refused command's replacement, then the caller's sync.
    assert_eq!(after, [Command::Sync, Command::Sync]);
    smmu.invalidate_asid(5).unwrap();
}

#[test]
fn a_refused_cmd_sync_is_reissued_and_waited_for() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    smmu.registers_mut().cmdq_latency = 3;
    smmu.registers_mut().reject_opcode.set(Some(opcode::SYNC));
    smmu.submit(&[Command::TlbiNhAsid { vmid: 0, asid: 9 }])
        .unwrap();
    let before = smmu.registers().seen().len();
    let e = smmu.sync().unwrap_err();
    assert_eq!(
        e,
        Error::Command {
            error: CommandError::Illegal,
            opcode: opcode::SYNC
        }
    );
    assert!(drained(smmu.registers()));
    assert_eq!(
        commands(&smmu)[before..],
        [Command::TlbiNhAsid { vmid: 0, asid: 9 }, Command::Sync]
    );
    // The error was reported once: the next sync is clean.
    smmu.sync().unwrap();
}

#[test]
fn a_command_error_while_the_queue_is_full_is_reported_by_the_sync() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    smmu.features.range_invalidation = false;
    smmu.registers_mut()
        .reject_opcode
        .set(Some(opcode::TLBI_NH_VA));
    // 40 commands through an 8-entry queue that stops on the first.
    let before = smmu.registers().seen().len();
    let e = smmu
        .invalidate_range(9, 0x10_0000, 40 << 12, Granule::G4K, 4096)
        .unwrap_err();
    assert_eq!(
        e,
        Error::Command {
            error: CommandError::Illegal,
            opcode: opcode::TLBI_NH_VA
        }
    );
    let after = &commands(&smmu)[before..];
    // The first page's command was skipped; the other 39 and the sync ran.
    let vas = after
        .iter()
        .filter(|c| matches!(c, Command::TlbiNhVa { .. }))
        .count();
    assert_eq!(vas, 39);
    assert_eq!(after.first(), Some(&Command::Sync));
    assert_eq!(after.last(), Some(&Command::Sync));
    assert!(drained(smmu.registers()));
}
