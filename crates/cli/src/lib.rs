//! The library behind `duban`: the in-process service set that `duban up` runs and the
//! end-to-end tests start.

pub mod security;
pub mod stack;
