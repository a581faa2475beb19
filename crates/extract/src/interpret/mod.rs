//! Stage 3, interpret: what a block says — who answers for it (the responsibility grammar),
//! by when, which quantities it sets, and which it reports as done.

pub mod deadline;
pub mod indicator;
pub mod outcome;
pub mod quantity;
pub mod units;
