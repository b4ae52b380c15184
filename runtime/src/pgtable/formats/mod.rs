//! The formats the engine ships: each is one file implementing
//! [`Format`](super::Format) (geometry constants and descriptor codec).
//! How to add one: ARCHITECTURE.md, "The page-table engine", and the book
//! chapter "Page-table formats".

pub mod apple_dart;
pub mod arm_v7s;
pub mod exynos;
pub mod lpae;
pub mod rockchip;
pub mod sun50i;
pub mod tegra_smmu;
