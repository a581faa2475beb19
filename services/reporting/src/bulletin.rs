//! The bulletin (通报), free of I/O: composed once from a plan's supervision snapshot as a list
//! of blocks, then written out as Markdown, HTML or a Word document. The output depends only on
//! the snapshot and the date, so the same inputs give the same bytes.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use duban_proto::{
    ApiError,
    v1::{AggregateGroup, Light, Pace},
};

use crate::domain::{self, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// Centred, under the title: the plan the bulletin covers.
    Subtitle(String),
    /// 一、总体情况 …
    Heading(String),
    Paragraph(String),
    /// The issuer and the date, right-aligned at the end.
    Signature(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// What the bulletin says about the plan besides the snapshot.
pub struct Heading<'a> {
    pub plan_title: &'a str,
    pub issuer: &'a str,
}

const SECTION_NUMBERS: [&str; 6] = ["一", "二", "三", "四", "五", "六"];

fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A task's text for a bulletin line: official Chinese text sets no spaces, so none are kept.
fn clip(text: &str, max: usize) -> String {
    duban_kit::text::clip(&text.split_whitespace().collect::<String>(), max)
}

fn share(part: i32, total: i32) -> String {
    if total == 0 {
        "0%".into()
    } else {
        let p = (f64::from(part) * 1000.0 / f64::from(total)).round() / 10.0;
        format!("{p}%")
    }
}

pub fn compose(s: &Snapshot, head: &Heading<'_>, period: &str, as_of: NaiveDate) -> Document {
    let label = domain::period_label(period);
    let title = format!("关于{label}《政府工作报告》目标任务落实情况的通报");
    let lights = domain::lights(s, period, as_of);
    let totals = domain::aggregates(s, period, AggregateGroup::GroupPlan, as_of)
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut blocks = vec![
        Block::Subtitle(format!("（{}）", head.plan_title)),
        Block::Paragraph(format!(
            "区直各单位：根据督办工作安排，现将{label}{}目标任务落实情况（截至{}）通报如下。",
            head.plan_title,
            chinese_date(as_of)
        )),
    ];
    let mut section = 0;
    let mut heading = |blocks: &mut Vec<Block>, text: &str| {
        blocks.push(Block::Heading(format!(
            "{}、{text}",
            SECTION_NUMBERS[section]
        )));
        section += 1;
    };

    heading(&mut blocks, "总体情况");
    blocks.push(Block::Paragraph(format!(
        "纳入督办的{}项任务中，已完成{}项，占{}；超进度{}项，占{}；达进度{}项，占{}；欠进度{}项，占{}；未报送{}项，占{}。",
        totals.total,
        totals.completed,
        share(totals.completed, totals.total),
        totals.ahead,
        share(totals.ahead, totals.total),
        totals.on_pace,
        share(totals.on_pace, totals.total),
        totals.behind,
        share(totals.behind, totals.total),
        totals.not_reported,
        share(totals.not_reported, totals.total),
    )));

    heading(&mut blocks, "进度滞后的事项");
    let behind: Vec<_> = lights
        .iter()
        .filter(|l| l.pace == Pace::Behind as i32)
        .collect();
    if behind.is_empty() {
        blocks.push(Block::Paragraph("本期无进度滞后的事项。".into()));
    }
    for (i, l) in behind.iter().enumerate() {
        let problems = domain::problems(s, &l.task, period, as_of);
        let red = if l.light == Light::Red as i32 {
            "（红灯）"
        } else {
            "（黄灯）"
        };
        blocks.push(Block::Paragraph(format!(
            "{}. 第{}项：{}{red}牵头单位：{}。{}{}",
            i + 1,
            l.task_number,
            clip(task_words(&l.task_number, &l.task_text), 60),
            l.lead_units.join("、"),
            if l.reasons.is_empty() {
                String::new()
            } else {
                format!("督办意见：{}。", l.reasons.join("；"))
            },
            if problems.is_empty() {
                String::new()
            } else {
                format!("存在问题：{}", problems.join("；"))
            },
        )));
    }

    heading(&mut blocks, "未按时报送的单位");
    let late = domain::late_units(s, period, as_of);
    if late.is_empty() {
        blocks.push(Block::Paragraph("本期各单位均按时报送。".into()));
    }
    for (i, l) in late.iter().enumerate() {
        let what = match l.submitted {
            Some(d) => format!("于{}报送，迟报{}天", chinese_date(d), l.days),
            None => format!("截至{}已逾期{}天未报送", chinese_date(as_of), l.days),
        };
        blocks.push(Block::Paragraph(format!(
            "{}. {}：应于{}前报送，{what}。",
            i + 1,
            l.unit,
            chinese_date(l.due)
        )));
    }

    heading(&mut blocks, "已完成的事项");
    let done: Vec<_> = lights
        .iter()
        .filter(|l| l.pace == Pace::Completed as i32)
        .collect();
    if done.is_empty() {
        blocks.push(Block::Paragraph("本期无新完成的事项。".into()));
    }
    for (i, l) in done.iter().enumerate() {
        blocks.push(Block::Paragraph(format!(
            "{}. 第{}项：{}（牵头单位：{}）",
            i + 1,
            l.task_number,
            clip(task_words(&l.task_number, &l.task_text), 60),
            l.lead_units.join("、")
        )));
    }

    heading(&mut blocks, "工作成效较好的单位");
    let good = domain::commended_units(s, period, as_of);
    blocks.push(Block::Paragraph(if good.is_empty() {
        "本期暂无。".into()
    } else {
        format!("{}按时报送、推进有力，予以通报表扬。", good.join("、"))
    }));

    heading(&mut blocks, "下一步工作要求");
    blocks.push(Block::Paragraph(
        "各责任单位要对照目标任务，针对存在问题逐项研究整改措施；进度滞后和逾期未报送的单位要限期整改，并于下期报告中说明整改情况。"
            .into(),
    ));
    blocks.push(Block::Signature(head.issuer.to_string()));
    blocks.push(Block::Signature(chinese_date(as_of)));
    Document { title, blocks }
}

pub fn markdown(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", doc.title);
    for block in &doc.blocks {
        match block {
            Block::Subtitle(t) | Block::Paragraph(t) | Block::Signature(t) => {
                out.push_str(t);
                out.push_str("\n\n");
            }
            Block::Heading(t) => {
                out.push_str("## ");
                out.push_str(t);
                out.push_str("\n\n");
            }
        }
    }
    out
}

/// `text` as XML and HTML character data: markup escaped, and the characters XML 1.0 forbids
/// (C0 controls other than tab and line breaks, U+FFFE, U+FFFF) left out, since one of them in
/// a report's text makes Word refuse the whole file.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn html(doc: &Document) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n\
         <style>body{{font-family:FangSong,serif;max-width:42em;margin:2em auto;line-height:1.8}}\
         h1{{text-align:center}}.subtitle{{text-align:center}}.signature{{text-align:right}}\
         p{{text-indent:2em}}</style>\n</head>\n<body>\n<h1>{0}</h1>\n",
        escape(&doc.title)
    );
    for block in &doc.blocks {
        let line = match block {
            Block::Subtitle(t) => format!("<p class=\"subtitle\">{}</p>\n", escape(t)),
            Block::Heading(t) => format!("<h2>{}</h2>\n", escape(t)),
            Block::Paragraph(t) => format!("<p>{}</p>\n", escape(t)),
            Block::Signature(t) => format!("<p class=\"signature\">{}</p>\n", escape(t)),
        };
        out.push_str(&line);
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// One WordprocessingML paragraph: official-document fonts (标题 小标宋 二号, 一级标题 黑体
/// 三号, 正文 仿宋 三号).
fn paragraph(text: &str, font: &str, half_points: u32, justify: &str, indent: bool) -> String {
    let indent = if indent {
        "<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>"
    } else {
        ""
    };
    format!(
        "<w:p><w:pPr><w:spacing w:line=\"560\" w:lineRule=\"exact\"/>{indent}<w:jc w:val=\"{justify}\"/></w:pPr>\
         <w:r><w:rPr><w:rFonts w:ascii=\"{font}\" w:hAnsi=\"{font}\" w:eastAsia=\"{font}\"/>\
         <w:sz w:val=\"{half_points}\"/><w:szCs w:val=\"{half_points}\"/></w:rPr>\
         <w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
        escape(text)
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

pub const DOCX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn document_xml(doc: &Document) -> String {
    let mut body = paragraph(&doc.title, "方正小标宋简体", 44, "center", false);
    for block in &doc.blocks {
        body.push_str(&match block {
            Block::Subtitle(t) => paragraph(t, "楷体_GB2312", 32, "center", false),
            Block::Heading(t) => paragraph(t, "黑体", 32, "left", true),
            Block::Paragraph(t) => paragraph(t, "仿宋_GB2312", 32, "both", true),
            Block::Signature(t) => paragraph(t, "仿宋_GB2312", 32, "right", false),
        });
    }
    // A4 with the margins of GB/T 9704 (top 37 mm, left 28 mm, right 26 mm, bottom 35 mm).
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
         <w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1588\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/>\
         </w:sectPr></w:body></w:document>"
    )
}

/// The Word file: the three parts a WordprocessingML package needs, with fixed timestamps so the
/// bytes are the same every time.
pub fn docx(doc: &Document) -> Result<Vec<u8>, ApiError> {
    let fail = |e: &dyn std::fmt::Display| ApiError::internal(format!("writing the DOCX: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, content) in [
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", RELS.to_string()),
        ("word/document.xml", document_xml(doc)),
    ] {
        zip.start_file(name, options).map_err(|e| fail(&e))?;
        zip.write_all(content.as_bytes()).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}

/// A task as a bulletin names it after "第N项：": without the number the document wrote before
/// it and the responsibility label after it, both of which the bulletin says itself.
fn task_words<'a>(number: &str, text: &'a str) -> &'a str {
    let mut words = text.trim();
    if let Some(rest) = words
        .strip_prefix(number)
        .and_then(|rest| rest.strip_prefix(['.', '、', '．']))
    {
        words = rest.trim_start();
    }
    if words.ends_with([')', '）'])
        && let Some(open) = words.rfind(['(', '（'])
        && words[open..].contains("单位")
    {
        words = words[..open].trim_end();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_named_once_without_its_label() {
        assert_eq!(
            task_words("3", "3.社会消费品零售总额增长7%以上。(责任单位:区商务局)"),
            "社会消费品零售总额增长7%以上。"
        );
        assert_eq!(
            task_words("12", "12、建设滨江商务区（区级牵头单位：区发改局）"),
            "建设滨江商务区"
        );
        assert_eq!(task_words("1", "推进城市更新(一期)"), "推进城市更新(一期)");
        assert_eq!(task_words("2", "20.加快建设"), "20.加快建设");
    }

    fn doc() -> Document {
        Document {
            title: "关于2025年第二季度《政府工作报告》目标任务落实情况的通报".into(),
            blocks: vec![
                Block::Heading("一、总体情况".into()),
                Block::Paragraph("欠进度1项 <a&b>".into()),
            ],
        }
    }

    #[test]
    fn renders_escape_markup_and_the_docx_is_deterministic() {
        let d = doc();
        assert!(markdown(&d).starts_with("# 关于2025年第二季度"));
        assert!(html(&d).contains("欠进度1项 &lt;a&amp;b&gt;"));
        assert!(document_xml(&d).contains("欠进度1项 &lt;a&amp;b&gt;"));
        let a = docx(&d).unwrap();
        assert_eq!(a, docx(&d).unwrap());
        assert_eq!(&a[..2], b"PK");
    }

    /// Issue 25: a control character in a report's text does not reach the XML.
    #[test]
    fn characters_xml_forbids_are_left_out() {
        let d = Document {
            title: "通报".into(),
            blocks: vec![Block::Paragraph(
                "进度\u{1}正常\u{b}，\u{ffff}见附表\t一".into(),
            )],
        };
        let xml = document_xml(&d);
        assert!(xml.contains("进度正常，见附表\t一"), "{xml}");
        assert!(
            !xml.chars()
                .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        );
        assert!(!html(&d).contains('\u{1}'));
    }
}
