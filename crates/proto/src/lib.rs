//! Generated code for package `duban.v1`, plus the error -> `tonic::Status` mapping every service
//! uses, so a caller sees the same codes and details whichever service answers.

#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("duban.v1");
}

/// Descriptor set of every duban proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/duban_descriptor.bin"));

mod error;
pub use error::{ApiError, FieldViolation, quote};
