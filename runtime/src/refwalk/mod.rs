//! Reference walkers, one per format, for tests, fuzzing and the
//! `iommugen pagetable` command (cargo feature `refwalk`, which pulls in
//! `alloc`). Each is written from the architecture documents alone and
//! shares no code with the engine: it sees table memory only through a
//! "read the descriptor at this physical address" callback, so it can
//! check the engine's raw tables (or a dump of a device's).

pub mod apple_dart;
pub mod arm_v7s;
pub mod exynos;
pub mod lpae;
pub mod rockchip;
pub mod sun50i;
pub mod tegra_smmu;
