//! Dev tool: extract files and write one JSON per input into a folder.
//! `cargo run -p duban-extract --example extract -- --out /tmp/pred seeds/*.txt`

use std::path::{Path, PathBuf};

fn main() {
    let mut out = PathBuf::from("pred");
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            if let Some(o) = args.next() {
                out = PathBuf::from(o);
            }
        } else {
            files.push(a);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {e}", out.display());
        std::process::exit(2);
    }
    for f in files {
        let path = Path::new(&f);
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{f}: {e}");
                continue;
            }
        };
        let x = duban_extract::extract(&bytes, &f);
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".to_string());
        let dest = out.join(format!("{stem}.json"));
        match serde_json::to_string_pretty(&x) {
            Ok(json) => {
                if let Err(e) = std::fs::write(&dest, json) {
                    eprintln!("{}: {e}", dest.display());
                }
            }
            Err(e) => eprintln!("{f}: {e}"),
        }
        println!(
            "{f}: kind {:?}, {} items, {} plans",
            x.document.kind,
            x.items.len(),
            x.plans.len()
        );
    }
}
