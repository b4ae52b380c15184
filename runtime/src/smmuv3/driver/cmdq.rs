//! Command submission and completion: filling the queue, CMD_SYNC, and
//! recovery from a command the SMMU refused (CMDQ_CONS.ERR).
//!
//! When the SMMU stops on a command, the driver replaces it in place with a
//! CMD_SYNC, acknowledges GERROR.CMDQ_ERR and lets the queue run on. Every
//! wait keeps polling after such a recovery, so [`Smmuv3::sync`] returns
//! only once every command before it was consumed (or skipped), and then
//! reports the first error. When the refused command was the caller's own
//! CMD_SYNC, its replacement is a fresh CMD_SYNC in the same slot: the wait
//! covers it.

use super::{Error, Smmuv3};
use crate::smmuv3::cmd::Command;
use crate::smmuv3::mmio::RegisterIo;
use crate::smmuv3::queue::QueueGeometry;
use crate::smmuv3::regs::{self, gerror, CommandError};

/// The command queue stopped on an error: CONS.ERR is only meaningful while
/// GERROR.CMDQ_ERR is active (differs from GERRORN).
pub(super) fn cmdq_stopped<R: RegisterIo>(regs: &R, cons: u32) -> bool {
    CommandError::from_cons(cons).is_some()
        && (regs.read32(regs::GERROR) ^ regs.read32(regs::GERRORN)) & gerror::CMDQ_ERR != 0
}

impl<R: RegisterIo> Smmuv3<'_, R> {
    /// Appends commands to the queue and publishes them (waiting for room
    /// when the queue is full). Completion is not awaited: see [`Self::sync`].
    /// A command error met while waiting for room is recovered from and
    /// reported by the next [`Self::sync`].
    pub fn submit(&mut self, commands: &[Command]) -> Result<(), Error> {
        for c in commands {
            let geo = self.cmdq_geo;
            if geo.is_full(self.cmdq_prod, self.regs.read32(regs::CMDQ_CONS)) {
                self.regs.write32(regs::CMDQ_PROD, self.cmdq_prod);
                self.wait_cmdq("command queue space", |g, prod, cons| {
                    !g.is_full(prod, cons)
                })?;
            }
            let slot = geo.index(self.cmdq_prod) as usize;
            self.cmdq.write(slot, c.encode());
            if !self.coherent {
                self.cmdq.clean(Some(slot));
            }
            self.cmdq_prod = geo.next(self.cmdq_prod);
        }
        // The MMIO write's barrier orders the entries before the index.
        self.regs.write32(regs::CMDQ_PROD, self.cmdq_prod);
        Ok(())
    }

    /// Issues CMD_SYNC and waits until the SMMU consumed it: every command
    /// before it has then taken effect, or was refused and skipped, in which
    /// case the first such error is returned.
    pub fn sync(&mut self) -> Result<(), Error> {
        let waited = self
            .submit(&[Command::Sync])
            .and_then(|()| self.wait_cmdq("CMD_SYNC", QueueGeometry::is_empty));
        let refused = self.cmd_error.take();
        waited?;
        refused.map_or(Ok(()), Err)
    }

    /// Polls CMDQ_CONS until `done(geometry, our PROD, CONS)`. A stop on a
    /// refused command is recovered from (the first error kept for
    /// [`Self::sync`]) and polling goes on. Every poll, recovery or not,
    /// counts against the spin limit, so an SMMU refusing every command
    /// cannot keep the driver here.
    fn wait_cmdq(
        &mut self,
        what: &'static str,
        done: impl Fn(QueueGeometry, u32, u32) -> bool,
    ) -> Result<(), Error> {
        let geo = self.cmdq_geo;
        for _ in 0..self.options.spin_limit.max(1) {
            let cons = self.regs.read32(regs::CMDQ_CONS);
            if cmdq_stopped(&self.regs, cons) {
                let e = self.skip_refused(cons);
                self.cmd_error.get_or_insert(e);
                continue;
            }
            if done(geo, self.cmdq_prod, cons) {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Error::Timeout(what))
    }

    /// The queue stopped at CONS: report the command, replace it with a
    /// CMD_SYNC so the queue can move on, acknowledge the global error and
    /// restart consumption.
    fn skip_refused(&mut self, cons: u32) -> Error {
        let error = CommandError::from_cons(cons).unwrap_or(CommandError::Other(0));
        let index = self.cmdq_geo.index(cons) as usize;
        let opcode = self.cmdq.read(index).map_or(0, |e| e[0] as u8);
        self.cmdq.write(index, Command::Sync.encode());
        if !self.coherent {
            self.cmdq.clean(Some(index));
        }
        let active = self.regs.read32(regs::GERROR) ^ self.regs.read32(regs::GERRORN);
        if active & gerror::CMDQ_ERR != 0 {
            let n = self.regs.read32(regs::GERRORN);
            self.regs.write32(regs::GERRORN, n ^ gerror::CMDQ_ERR);
        }
        self.regs.write32(regs::CMDQ_PROD, self.cmdq_prod);
        Error::Command { error, opcode }
    }
}
