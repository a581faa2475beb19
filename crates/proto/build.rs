//! Compiles `proto/` with protox (pure Rust, no system protoc) and hands the descriptors to
//! tonic-prost-build; the same descriptor set, less the benchmark's echo service, is kept for
//! server reflection.
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

/// Compiled for the benchmark's baseline server, never served by a duban service.
const BENCH_ONLY: &str = "duban/v1/echo.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let fds = protox::compile(FILES, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    // Reflection describes what production serves: the benchmark's echo service stays out.
    let mut served = fds.clone();
    served.file.retain(|file| file.name() != BENCH_ONLY);
    fs::write(out.join("duban_descriptor.bin"), served.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
