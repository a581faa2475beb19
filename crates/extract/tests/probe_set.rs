//! Scores `extract` on the held-out probe set (tests/probes: documents of the genre the seeds
//! lack — flattened tables, X牵头/Y配合 clauses, 列第一位 notices, other years' work reports,
//! prose plan-execution reports, a traditional-character mirror, a GBK news page, 十件实事)
//! with the vendored scorer, and asserts the bar.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

fn docx_from_xml(xml: &[u8]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("[Content_Types].xml", opts).expect("start");
        w.write_all(b"<Types/>").expect("write");
        w.start_file("word/document.xml", opts).expect("start");
        w.write_all(xml).expect("write");
        w.finish().expect("finish");
    }
    buf.into_inner()
}

const BAR: &[(&str, f64)] = &[
    ("items", 0.95),
    ("units", 0.95),
    ("leads", 0.95),
    ("targets", 0.95),
    ("actuals", 0.90),
];

#[test]
fn probe_set_meets_the_bar() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let probes = crate_dir.join("tests/probes");
    let scorer = crate_dir.join("tests/dev_set/score.py");
    // PROBE_OUT=dir keeps the predictions for `score.py --verbose`
    let keep = std::env::var_os("PROBE_OUT").map(PathBuf::from);
    let out = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("duban-extract-probes-{}", std::process::id()))
    });
    std::fs::create_dir_all(&out).expect("temp dir");
    let mut n = 0;
    for entry in std::fs::read_dir(&probes).expect("probes dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e == "json") {
            continue;
        }
        let mut bytes = std::fs::read(&path).expect("probe");
        // a DOCX probe is stored as its word/document.xml and zipped here
        if path.extension().is_some_and(|e| e == "docxml") {
            bytes = docx_from_xml(&bytes);
        }
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
    assert!(
        n >= 8,
        "expected the probe documents in {}",
        probes.display()
    );
    let score = Command::new("python3")
        .arg(&scorer)
        .arg("--gold")
        .arg(&probes)
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
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&out);
    }
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
