//! The LPAE reference walker (now `iommugen_runtime::refwalk::lpae`, cargo
//! feature `refwalk`) and the tests' model and checks around it.
#![allow(dead_code, unused_imports)]

pub use iommugen_runtime::refwalk::lpae::*;

pub mod harness;
