//! Hostile and odd inputs: extraction must never panic and must say something sensible.

use duban_extract::{DocKind, extract};
use std::io::Write;

#[test]
fn empty_input() {
    let x = extract(b"", "empty");
    assert!(x.items.is_empty());
    assert_eq!(x.document.kind, DocKind::Other);
    assert!(!x.warnings.is_empty());
}

#[test]
fn binary_garbage() {
    let mut seed = 0x1234_5678_u64;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    let x = extract(&bytes, "garbage");
    assert!(x.items.len() < 50);
}

#[test]
fn five_megabyte_single_line() {
    let line = "地区生产总值增长6%左右,".repeat(5 * 1024 * 1024 / 30);
    let x = extract(line.as_bytes(), "long");
    assert!(x.text.len() >= 5 * 1024 * 1024 - 64);
}

#[test]
fn invalid_utf8() {
    let mut bytes = "各位代表:主要预期目标是:地区生产总值增长6%左右。"
        .as_bytes()
        .to_vec();
    bytes.insert(10, 0xff);
    bytes.push(0xc3);
    let x = extract(&bytes, "bad-utf8");
    assert!(!x.document.encoding.is_empty());
}

#[test]
fn gbk_without_charset() {
    let text = "各位代表:现在,我代表区人民政府向大会报告工作。\n2024年工作回顾\n\
                今年经济社会发展主要预期目标是:地区生产总值增长6%左右,城镇新增就业5万人以上。\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let x = extract(&bytes, "gbk");
    assert!(
        x.document.encoding.starts_with("GB"),
        "{}",
        x.document.encoding
    );
    assert!(x.text.contains("地区生产总值"));
    assert_eq!(x.items.iter().filter(|i| !i.targets.is_empty()).count(), 2);
}

#[test]
fn deeply_nested_html() {
    let depth = 100_000;
    let mut html = String::from("<html><body>");
    html.push_str(&"<div>".repeat(depth));
    html.push_str("主要预期目标是:地区生产总值增长6%左右。");
    html.push_str(&"</div>".repeat(depth));
    html.push_str("</body></html>");
    let x = extract(html.as_bytes(), "deep.html");
    assert!(x.text.contains("地区生产总值"));
}

#[test]
fn zip_bomb_docx() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        w.start_file("word/document.xml", opts).expect("start");
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..40 {
            w.write_all(&chunk).expect("write");
        }
        w.finish().expect("finish");
    }
    let x = extract(buf.get_ref(), "bomb.docx");
    assert!(x.items.is_empty());
    assert!(
        x.warnings.iter().any(|w| w.contains("docx")),
        "{:?}",
        x.warnings
    );
}

#[test]
fn truncated_docx() {
    let x = extract(b"PK\x03\x04word/document.xml\x00\x00garbage", "broken.docx");
    assert!(x.items.is_empty());
}

/// Repeats of the pieces each stage looks for, as one long line (or many equal lines): every
/// one of these once cost the square of its length. Their speed is measured by the extract
/// bench (`--example bench`, which prints MB/s at 1×, 4× and 16×); here each must come back
/// whole, with every item's span inside the text.
#[test]
fn pathological_repeats() {
    for unit in [
        "亿元",
        "(",
        "(一)",
        "①",
        "5个",
        "主要预期目标是:",
        "主要预期目标是:增长5%,",
        "(牵头单位:",
        "牵头单位:",
        "、",
        "1.",
        "。1.",
        ")2.",
        "一、",
        "序号 项目 牵头单位\n",
        "1 a b\n",
        "附件",
        // a numeral glued to a heading before a label's colon: each colon's marker check
        // once counted the characters of the rest of the text
        "。一开展工作任务:推进",
        "|",
        "  ",
        "\n",
    ] {
        let line = unit.repeat(512 * 1024 / unit.len());
        let x = extract(line.as_bytes(), "pathological");
        assert!(x.text.len() + 64 >= line.len(), "{unit}: text lost");
        for item in &x.items {
            assert!(
                item.span[0] <= item.span[1] && item.span[1] <= x.text.len(),
                "{unit}: span {:?} outside the text",
                item.span
            );
        }
    }
}

/// A budget that has run out stops the extraction between stages and says where; a budget
/// that has not changes nothing.
#[test]
fn an_exhausted_budget_stops_between_stages() {
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../seeds/003_61d2f146978665c4.txt"
    ))
    .expect("the seed");
    let over = duban_extract::extract_within(&seed, "seed.txt", std::time::Duration::ZERO)
        .expect_err("no time at all");
    assert_eq!(over.stage, "decoding and cleaning the text");
    assert!(over.to_string().contains("0 ms budget"), "{over}");
    let within =
        duban_extract::extract_within(&seed, "seed.txt", std::time::Duration::from_secs(3600))
            .expect("an hour is enough");
    assert_eq!(within, duban_extract::extract(&seed, "seed.txt"));
}
