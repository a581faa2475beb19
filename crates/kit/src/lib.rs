//! The server kit: everything the four services do the same way.

pub mod app;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod guard;
pub mod list;
pub mod metrics;
pub mod names;
pub mod notified;
pub mod peer;
pub mod plans;
pub mod security;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod text;
