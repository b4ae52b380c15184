//! Replacing an STE: every state of the entry the SMMU could fetch from
//! memory while the driver rewrites it means what the entry meant at the
//! previous invalidation (CFGI + CMD_SYNC) or what it means at the next.
//! The model's timeline holds every dword store and every consumed command;
//! the tests replay it.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::smmuv3::fake::{take_steps, Step};

/// What the SMMU does with an STE: dwords 1..7 matter only when it is valid
/// and not abort, and nothing but V matters when it is invalid.
fn meaning(ste: &Ste) -> Ste {
    if !ste.valid() {
        Ste::default()
    } else if ste.config() == StreamConfig::Abort {
        Ste::abort()
    } else {
        *ste
    }
}

/// The host address of `sid`'s STE in a linear table.
fn ste_addr(smmu: &Smmuv3<'_, FakeSmmu>, sid: u32) -> usize {
    let StreamTable::Linear(t) = &smmu.strtab else {
        panic!("linear table expected")
    };
    t.phys() as usize + 64 * sid as usize
}

/// Replays `steps` over the 64 bytes at `addr`, which held `before`.
/// Checks every intermediate state against the states at the invalidations
/// around it, and that the last store is followed by one; returns the
/// states at the invalidations (`before` first).
fn replay(steps: &[Step], addr: usize, before: Ste, sid: u32) -> Vec<Ste> {
    let mut cur = before;
    let mut pending: Vec<Ste> = Vec::new();
    let mut synced = vec![before];
    let mut invalidated = false;
    for step in steps {
        match *step {
            Step::Store { addr: a, value } if (addr..addr + 64).contains(&a) => {
                cur.0[(a - addr) / 8] = value;
                pending.push(cur);
            }
            Step::Command(Command::CfgiSte { sid: s, .. }) if s == sid => invalidated = true,
            Step::Command(Command::CfgiAll) => invalidated = true,
            Step::Command(Command::Sync) if invalidated => {
                let start = meaning(synced.last().expect("starts with `before`"));
                let end = meaning(&cur);
                for (k, seen) in pending.iter().enumerate() {
                    let m = meaning(seen);
                    assert!(
                        m == start || m == end,
                        "store {k} left a mix the SMMU could fetch: {seen:x?}\n\
                         between {start:x?}\nand {end:x?}"
                    );
                }
                pending.clear();
                synced.push(cur);
                invalidated = false;
            }
            _ => {}
        }
    }
    assert!(pending.is_empty(), "stores not followed by CFGI + CMD_SYNC");
    synced
}

fn stage1_at(phys: u64) -> Ste {
    Ste::stage1(phys, CdFetchAttrs::WriteBack)
}

#[test]
fn no_fetch_sees_a_mix_for_any_change_of_config() {
    let invalid = Ste::default();
    let s1a = stage1_at(0x4000_0040);
    let s1b = stage1_at(0x5000_0080);
    let mut s1b_nc = Ste::stage1(0x5000_0080, CdFetchAttrs::NonCacheable);
    s1b_nc.0[2] = 0xdead; // a dword the SMMU reads only when translating
    let all = [Ste::abort(), invalid, Ste::bypass(), s1a, s1b, s1b_nc];
    // One SMMU for every pair: each starts by setting `from`, whatever the
    // entry held before.
    let mut smmu = enabled(FakeSmmu::qemu_like());
    let sid = 5;
    for from in all {
        for to in all {
            smmu.set_ste(sid, from).unwrap();
            take_steps();
            smmu.set_ste(sid, to).unwrap();
            let steps = take_steps();
            let synced = replay(&steps, ste_addr(&smmu, sid), from, sid);
            assert_eq!(synced.last(), Some(&to), "{from:x?} -> {to:x?}");
            assert_eq!(smmu.ste(sid), Some(to));
            // Live to live (different): through abort, synced on its own.
            let live = |s: &Ste| s.valid() && s.config() != StreamConfig::Abort;
            if live(&from) && live(&to) && from != to {
                assert_eq!(meaning(&synced[1]), Ste::abort(), "{from:x?} -> {to:x?}");
            }
        }
    }
}

#[test]
fn stopping_a_live_stream_stores_dword_0_first() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(7, &mut cds, cd_for(1)).unwrap();
    take_steps();
    smmu.detach(7).unwrap();
    let addr = ste_addr(&smmu, 7);
    let stores: Vec<(usize, u64)> = take_steps()
        .into_iter()
        .filter_map(|s| match s {
            Step::Store { addr: a, value } if (addr..addr + 64).contains(&a) => {
                Some(((a - addr) / 8, value))
            }
            _ => None,
        })
        .collect();
    // Dword 0 becomes abort in one store, then the rest is cleared.
    assert_eq!(stores.first(), Some(&(0, Ste::abort().0[0])));
    let order: Vec<usize> = stores.iter().map(|s| s.0).collect();
    assert_eq!(order, [0, 1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn rewriting_the_cd_a_live_ste_uses_stops_the_stream_first() {
    let mut smmu = enabled(FakeSmmu::qemu_like());
    let mut cds: DmaSlice<'static, ContextDescriptor> = dma(1);
    smmu.attach_stage1(2, &mut cds, cd_for(1)).unwrap();
    let live = smmu.ste(2).unwrap();
    take_steps();
    smmu.attach_stage1(2, &mut cds, cd_for(2)).unwrap();
    let steps = take_steps();
    let ste = ste_addr(&smmu, 2);
    let cd = cds.phys() as usize;
    // Replay the STE; at each store into the CD, neither the STE in memory
    // nor the one the SMMU may still hold (last synced) may point at it.
    let (mut cur, mut synced, mut invalidated) = (live, live, false);
    let mut cd_stores = 0;
    for step in &steps {
        match *step {
            Step::Store { addr, value } if (ste..ste + 64).contains(&addr) => {
                cur.0[(addr - ste) / 8] = value;
            }
            Step::Store { addr, .. } if (cd..cd + 64).contains(&addr) => {
                cd_stores += 1;
                for s in [cur, synced] {
                    assert_ne!(meaning(&s), live, "CD rewritten under a live STE");
                }
            }
            Step::Command(Command::CfgiSte { sid: 2, .. }) => invalidated = true,
            Step::Command(Command::Sync) if invalidated => {
                synced = cur;
                invalidated = false;
            }
            _ => {}
        }
    }
    assert_eq!(cd_stores, 8);
    assert_eq!(cds.read(0), Some(cd_for(2)));
    assert_eq!(smmu.ste(2), Some(live));
}
