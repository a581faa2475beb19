//! The ratchet: scores `extract` with the vendored scorer on three labelled sets and fails when
//! any measure falls below its floor in `tests/floors.json`.
//!
//! - `dev`: the five seeds (`seeds/`, gold vendored from `../shared/gold`), floor 0.98 on every
//!   measure;
//! - `train`: 27 real documents labelled by others (vendored from `../shared/train`);
//! - `held_out`: 20 real documents (`tests/real`) kept for evaluation only, never for writing
//!   rules.
//!
//! A commit that raises a score raises its floor in the same commit, so nothing that lands can
//! lose ground. The per-document table is printed (and quoted on failure), so a regression
//! names its document.

use std::path::{Path, PathBuf};
use std::process::Command;

const MEASURES: &[&str] = &["items", "units", "leads", "targets", "values", "actuals"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Extracts every `.txt` in `docs` whose stem has a gold file in `gold` into a fresh folder.
fn predict(set: &str, docs: &Path, gold: &Path) -> (PathBuf, usize) {
    let out = std::env::temp_dir().join(format!("duban-extract-{set}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("temp dir");
    let mut n = 0;
    for entry in std::fs::read_dir(docs).expect("docs dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        if !gold.join(format!("{stem}.json")).exists() {
            continue;
        }
        let bytes = std::fs::read(&path).expect("document");
        let x = duban_extract::extract(&bytes, &path.to_string_lossy());
        std::fs::write(
            out.join(format!("{stem}.json")),
            serde_json::to_string(&x).expect("json"),
        )
        .expect("write");
        n += 1;
    }
    (out, n)
}

fn scorer(gold: &Path, pred: &Path, json: bool) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg(crate_dir().join("tests/dev_set/score.py"))
        .arg("--gold")
        .arg(gold)
        .arg("--pred")
        .arg(pred);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("python3 score.py");
    assert!(
        out.status.success(),
        "scorer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Scores one set and checks it against its floors; the failures, if any.
fn check(set: &str, docs: &Path, gold: &Path, expected_docs: usize) -> Vec<String> {
    let floors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("tests/floors.json")).expect("floors.json"),
    )
    .expect("floors.json is JSON");
    let (pred, n) = predict(set, docs, gold);
    assert_eq!(
        n,
        expected_docs,
        "{set}: documents with gold in {}",
        docs.display()
    );
    let table = scorer(gold, &pred, false);
    println!("== {set} ==\n{table}");
    let scores: serde_json::Value =
        serde_json::from_str(scorer(gold, &pred, true).trim()).expect("scorer JSON");
    let bands = confidence_bands(gold, &pred);
    println!("{set} precision by confidence: {bands}");
    let _ = std::fs::remove_dir_all(&pred);
    let mut failed = Vec::new();
    for measure in MEASURES {
        let floor = floors[set][measure]
            .as_f64()
            .unwrap_or_else(|| panic!("floors.json has no {set}.{measure}"));
        let f1 = scores[measure]["f1"].as_f64().unwrap_or(0.0);
        // the scorer prints three decimals; floors are written from that print
        if (f1 * 1000.0).round() / 1000.0 < floor {
            failed.push(format!("{set} {measure} F1 {f1:.3} < floor {floor}"));
        }
    }
    // A confidence must mean something: the items read with high confidence are right at least
    // as often as the others.
    let precision = |band: &str| bands[band]["precision"].as_f64();
    let high = precision("above_0.8");
    for lower in ["below_0.5", "0.5_to_0.8"] {
        if let (Some(high), Some(low)) = (high, precision(lower))
            && high < low
        {
            failed.push(format!(
                "{set}: items above 0.8 confidence are right less often ({high:.3}) than those {lower} ({low:.3})"
            ));
        }
    }
    if !failed.is_empty() {
        failed.push(table);
    }
    failed
}

/// Precision of the predicted items per confidence band (tests/confidence.py, the scorer's
/// own matching).
fn confidence_bands(gold: &Path, pred: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(crate_dir().join("tests/confidence.py"))
        .arg(crate_dir().join("tests/dev_set/score.py"))
        .arg(gold)
        .arg(pred)
        .output()
        .expect("python3 confidence.py");
    assert!(
        out.status.success(),
        "confidence.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("confidence JSON")
}

#[test]
fn dev_set_holds_its_floors() {
    let dir = crate_dir();
    let failed = check(
        "dev",
        &dir.join("../../seeds"),
        &dir.join("tests/dev_set"),
        5,
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn training_set_holds_its_floors() {
    let dir = crate_dir().join("tests/train_set");
    let failed = check("train", &dir.join("docs"), &dir.join("gold"), 27);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn held_out_set_holds_its_floors() {
    let dir = crate_dir().join("tests/real");
    let failed = check("held_out", &dir.join("docs"), &dir.join("gold"), 20);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
