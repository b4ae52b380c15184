//! Boot-time globals for a single-CPU kernel: written during init, read
//! afterwards, never touched by interrupts (none are enabled).

use core::cell::UnsafeCell;

pub struct Global<T>(UnsafeCell<T>);

// SAFETY: the kernel runs on one CPU without interrupts, so no two
// accesses are ever concurrent; `with` never hands out overlapping `&mut`.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Global<T> {
        Global(UnsafeCell::new(value))
    }

    /// The value for the rest of the run, for memory handed to the SMMU
    /// driver once.
    ///
    /// # Safety
    /// Call at most once per global, and never use `with` on it afterwards.
    // A `&mut` from `&self` is the point: the one-shot handover above.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn leak(&'static self) -> &'static mut T {
        // SAFETY: the caller guarantees this is the only reference ever made.
        unsafe { &mut *self.0.get() }
    }

    /// Runs `f` with exclusive access. Must not be re-entered for the same
    /// global (nothing in this kernel does).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: single CPU, no interrupts, no re-entry (see above).
        f(unsafe { &mut *self.0.get() })
    }
}
