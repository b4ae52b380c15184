//! The host side of `iommugen dt`: drivers interpreted from checked specs,
//! plugged into the very runtime code a kernel links.

pub mod driver;
pub mod report;

#[cfg(test)]
mod equivalence;
