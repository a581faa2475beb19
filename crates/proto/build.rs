//! Compiles `proto/` with protox (pure Rust, no system protoc) and hands the descriptors to
//! tonic-prost-build; the same descriptor set is kept for server reflection.
use std::{env, fs, path::PathBuf};

use prost::Message;

const FILES: &[&str] = &[
    "duban/v1/common.proto",
    "duban/v1/ingest.proto",
    "duban/v1/targets.proto",
    "duban/v1/assignments.proto",
    "duban/v1/reporting.proto",
    "duban/v1/echo.proto",
    "duban/v1/security.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let fds = protox::compile(FILES, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("duban_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
