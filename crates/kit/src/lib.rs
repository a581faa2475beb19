//! The server kit: everything the four services do the same way.

pub mod app;
pub mod list;
pub mod metrics;
pub mod names;
pub mod peer;
pub mod server;
pub mod service;
pub mod telemetry;
