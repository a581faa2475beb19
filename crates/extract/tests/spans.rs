//! Every item's span indexes the decoded text as written (`Extraction::text`) and holds the
//! item's text, on the seeds, the probes, hostile inputs and generated mirror pages; target
//! phrases are verbatim substrings of their item.

use duban_extract::{Extraction, extract};
use proptest::prelude::*;
use std::path::Path;

/// The span contract: `text[span]` is the item's text (it contains it, and today equals it),
/// on character boundaries; names and phrases are non-empty. (A phrase is a verbatim substring
/// of its item except where a flattened table row continues on the next line: the item is the
/// first cell, the phrase joins both.)
fn check(x: &Extraction, what: &str) {
    for it in &x.items {
        let [s, e] = it.span;
        let slice = x.text.get(s..e);
        assert!(
            slice.is_some_and(|t| t.contains(it.text.as_str())),
            "{what}: item {:?} span {s}..{e} does not hold {:?}",
            it.no,
            it.text
        );
        assert_eq!(slice, Some(it.text.as_str()), "{what}: item {:?}", it.no);
        for q in it.targets.iter().chain(&it.actual) {
            assert!(!q.phrase.is_empty(), "{what}: empty phrase");
        }
        for u in &it.units {
            assert!(!u.name.trim().is_empty(), "{what}: empty unit name");
        }
    }
}

fn docx_from_xml(xml: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("word/document.xml", opts).expect("start");
        w.write_all(xml).expect("write");
        w.finish().expect("finish");
    }
    buf.into_inner()
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    out.sort();
    out
}

#[test]
fn spans_are_exact_on_the_seeds_and_probes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["../../seeds", "tests/probes"] {
        for path in files(&root.join(dir)) {
            let mut bytes = std::fs::read(&path).expect("file");
            // a DOCX probe is stored as its word/document.xml
            if path.extension().is_some_and(|e| e == "docxml") {
                bytes = docx_from_xml(&bytes);
            }
            let x = extract(&bytes, &path.to_string_lossy());
            assert!(!x.items.is_empty(), "{}", path.display());
            check(&x, &path.display().to_string());
            let json = serde_json::to_string(&x).expect("json");
            let back: Extraction = serde_json::from_str(&json).expect("round trip");
            assert_eq!(back.items, x.items);
            n += 1;
        }
    }
    assert!(n >= 18, "{n} documents");
}

#[test]
fn spans_hold_on_hostile_inputs() {
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\xff\xfe\x00".to_vec(),
        "主要预期目标是:地区生产总值增长6%左右。\r\n\r\n".as_bytes().to_vec(),
        "主要預(yù)期目標是:地區生產總值增長6%左右,城鎮新增就業2萬人以上。"
            .as_bytes()
            .to_vec(),
        "1.新建公园5个。\u{200B}(牵头单位:区园林局\u{FEFF})\r\n2.新增就业１万人。(牵头单位:区人社局)\r"
            .as_bytes()
            .to_vec(),
        "关于印发重点任务分解方案的通知\n1.新建學校3所(suǒ)。(牽頭單位:區教(jiào)育局)\n2.(".as_bytes().to_vec(),
        "地区生产总值增长6%左右,".repeat(20_000).into_bytes(),
        "<html><body><p>主要预期目标是:</p><p>地区生产总值增长6%左右,城镇新增就业5万人以上。</p></body></html>"
            .as_bytes()
            .to_vec(),
    ];
    let (gbk, _, _) = encoding_rs::GBK.encode(
        "各位代表:\r\n今年主要预期目标是:地区生产总值增长6%左右,城镇新增就业5万人以上。\r\n",
    );
    inputs.push(gbk.into_owned());
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    inputs.push(
        (0..50_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect(),
    );
    for (i, b) in inputs.iter().enumerate() {
        let x = extract(b, "hostile");
        check(&x, &format!("input {i}"));
    }
}

/// Pieces a mirror page is made of: traditional and simplified clauses, pinyin insertions,
/// full-width forms, CRLF, zero-width and control characters, boilerplate.
const PIECES: &[&str] = &[
    "1.",
    "2.",
    "12.",
    "地區(qū)生產總值增長6%左右",
    "地区生产总值增长6%左右",
    "城鎮新增就業２萬人以上",
    "新建社區養老服務中心10個(gè)",
    "改造農村公路50公(gōng)里",
    "。",
    "，",
    ",",
    "(牽頭單位:區發(fà)改局;責任單位:區財政局、區統計局)",
    "（牵头单位：区住建局）",
    "主要預期目標是:",
    "主要预期目标是:",
    "\r\n",
    "\n",
    "  \n",
    "\u{200B}",
    "\u{3000}",
    "\t",
    "\u{1}",
    "版权所有 某某\n",
    "關於印發重點任務責任分解方案的通知\n",
    "一、經(jīng)濟發展\n",
    "(",
    ")",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn spans_hold_on_generated_mirror_pages(idx in prop::collection::vec(0..PIECES.len(), 0..80)) {
        let text: String = idx.iter().map(|&i| PIECES[i]).collect();
        let x = extract(text.as_bytes(), "generated");
        check(&x, &text);
    }
}
