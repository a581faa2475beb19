//! Scores `extract` on the five development seeds with the vendored scorer and asserts the bar.

use std::path::PathBuf;
use std::process::Command;

/// Items, units, targets, actuals F1 must reach these.
const BAR: &[(&str, f64)] = &[
    ("items", 0.99),
    ("units", 0.98),
    ("targets", 0.95),
    ("actuals", 0.90),
];

#[test]
fn dev_set_meets_the_bar() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let seeds = crate_dir.join("../../seeds");
    let dev = crate_dir.join("tests/dev_set");
    let out = std::env::temp_dir().join(format!("duban-extract-dev-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("temp dir");
    let mut n = 0;
    for entry in std::fs::read_dir(&seeds).expect("seeds dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("seed");
        let x = duban_extract::extract(&bytes, &path.to_string_lossy());
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        std::fs::write(
            out.join(format!("{stem}.json")),
            serde_json::to_string(&x).expect("json"),
        )
        .expect("write");
        n += 1;
    }
    assert_eq!(n, 5, "expected five seeds in {}", seeds.display());
    let score = Command::new("python3")
        .arg(dev.join("score.py"))
        .arg("--gold")
        .arg(&dev)
        .arg("--pred")
        .arg(&out)
        .arg("--json")
        .output()
        .expect("python3 score.py");
    let stdout = String::from_utf8_lossy(&score.stdout);
    assert!(
        score.status.success(),
        "scorer failed: {}",
        String::from_utf8_lossy(&score.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("scorer JSON");
    let _ = std::fs::remove_dir_all(&out);
    let mut failed = Vec::new();
    for (name, bar) in BAR {
        let f1 = v[name]["f1"].as_f64().unwrap_or(0.0);
        if f1 < *bar {
            failed.push(format!("{name} F1 {f1:.3} < {bar}"));
        }
    }
    assert!(
        failed.is_empty(),
        "below the bar: {failed:?}\nscores: {stdout}"
    );
}
