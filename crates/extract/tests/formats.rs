//! Layouts and formats other than the seeds: HTML pages, DOCX tables, flattened tables,
//! "X牵头,Y配合", mirror-site pinyin.

use duban_extract::{Comparator, DocKind, Role, extract};
use std::io::Write;

/// Every unit name of every item, in order.
fn unit_names(x: &duban_extract::Extraction) -> Vec<&str> {
    x.items
        .iter()
        .flat_map(|i| &i.units)
        .map(|u| u.name.as_str())
        .collect()
}

#[test]
fn html_article_without_chrome() {
    let html = r#"<!DOCTYPE html><html><head><title>关于印发2025年重点工作责任分解方案的通知</title>
<script>var x = "牵头单位:脚本";</script></head><body>
<div class="nav">首页 | 新闻 | 政务公开</div>
<div class="article"><h1>关于印发2025年重点工作责任分解方案的通知</h1>
<p>各镇人民政府,县政府各部门:</p>
<p>一、主要预期目标</p>
<p>1.地区生产总值增长6%左右。(牵头单位:县发改局;责任单位:县统计局)</p>
<p>2.城镇新增就业3000人以上。(牵头单位:县人社局)</p>
<p>3.新建公园5个。(牵头单位:县住建局;配合单位:县财政局、各镇人民政府)</p>
</div><div class="footer">版权所有 © 某县人民政府 ICP备12345号</div></body></html>"#;
    let x = extract(html.as_bytes(), "page.html");
    assert_eq!(x.document.kind, DocKind::Decomposition);
    assert_eq!(x.items.len(), 3, "{:#?}", x.items);
    assert!(!x.text.contains("脚本"));
    assert!(!x.text.contains("ICP"));
    let third = &x.items[2];
    assert_eq!(third.units.iter().filter(|u| u.role == Role::Co).count(), 2);
    assert_eq!(third.targets[0].value, 5.0);
}

#[test]
fn flattened_table_layout() {
    let text = "某区2025年政府工作报告重点任务分工方案\n\
序号 | 工作任务 | 牵头单位 | 配合单位 | 完成时限\n\
1 | 新建改建农村公路50公里 | 区交通局 | 区财政局、各街道办事处 | 2025年10月底前\n\
2 | 新增城镇就业1.2万人以上 | 区人社局 | 区发改局 | 年内\n";
    let x = extract(text.as_bytes(), "table.txt");
    assert_eq!(x.document.kind, DocKind::Decomposition);
    assert_eq!(x.items.len(), 2, "{:#?}", x.items);
    let a = &x.items[0];
    assert_eq!(a.no.as_deref(), Some("1"));
    assert_eq!(a.units.len(), 3);
    assert_eq!(a.units[0].role, Role::Lead);
    assert_eq!(a.deadline.as_deref(), Some("2025年10月底前"));
    assert_eq!(x.items[1].targets[0].value, 12000.0);
    assert_eq!(x.items[1].targets[0].comparator, Comparator::AtLeast);
}

#[test]
fn lead_and_cooperate_in_prose() {
    let text = "关于2025年重点工作任务分工的通知\n\
1.新建污水管网20公里。由区水务局牵头,区住建局、区财政局配合。\n\
2.完成老旧小区改造30个。(牵头单位:区住建局)\n\
3.新增停车泊位2000个。(责任单位:区城管局)\n\
4.开展招聘活动不少于40场。(责任单位:区人社局)\n";
    let x = extract(text.as_bytes(), "prose.txt");
    assert_eq!(x.document.kind, DocKind::Decomposition);
    let first = &x.items[0];
    assert_eq!(first.units.len(), 3, "{:?}", first.units);
    assert_eq!(first.units[0].name, "区水务局");
    assert_eq!(first.units[0].role, Role::Lead);
    assert_eq!(first.units[2].role, Role::Co);
}

#[test]
fn mirror_pinyin_and_traditional() {
    let text = "各位代表:\n今年經(jīng)濟社會發(fā)展主要預(yù)期目標是:地區生產總值增長6%左右,城鎮新增就業2萬人以上。\n";
    let x = extract(text.as_bytes(), "mirror.txt");
    // the text is the document as written; the rules ran on its simplified form
    assert_eq!(x.text, text);
    let t: Vec<_> = x.items.iter().flat_map(|i| i.targets.iter()).collect();
    assert_eq!(t.len(), 2, "{:#?}", x.items);
    assert_eq!(t[1].value, 20000.0);
    // a clause is emitted with the separator that ends it
    assert_eq!(x.items[1].text, "城鎮新增就業2萬人以上。");
    assert_eq!(t[1].unit, "人");
}

#[test]
fn traditional_decomposition_as_written() {
    let text = "關於印發2025年區政府工作報告重點任務責任分解方案的通知\n\
1.新建社區養老服務中心10個。(牽頭單位:區民政局;責任單位:區發(fà)改局、區財政局)\n\
2.年內完成老舊小區改造30個。(牽頭單位:區住建局)\n";
    let x = extract(text.as_bytes(), "trad.txt");
    assert_eq!(x.document.kind, DocKind::Decomposition);
    assert_eq!(x.items.len(), 2, "{:#?}", x.items);
    let a = &x.items[0];
    assert_eq!(&x.text[a.span[0]..a.span[1]], a.text);
    assert!(a.text.contains("新建社區養老服務中心10個"), "{}", a.text);
    let names: Vec<_> = a.units.iter().map(|u| u.name.as_str()).collect();
    // the pinyin rule (src/as_written.rs): running text keeps the mirror's insertions ...
    assert!(a.text.contains("區發(fà)改局"), "{}", a.text);
    // ... and so do unit names, copied as written; the canonical form is clean
    assert_eq!(names, ["區民政局", "區發(fà)改局", "區財政局"]);
    assert_eq!(a.units[1].canonical.as_deref(), Some("区发改局"));
    assert_eq!(a.targets[0].unit, "個");
    assert_eq!(a.targets[0].phrase, "新建社區養老服務中心10個");
    assert_eq!(x.items[1].deadline.as_deref(), Some("年內"));
}

#[test]
fn docx_paragraphs_and_table_rows() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>2025年政府工作报告重点任务责任分解方案</w:t></w:r></w:p>
<w:tbl>
<w:tr><w:tc><w:p><w:r><w:t>序号</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>工作任务</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>牵头单位</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>配合单位</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>完成时限</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>新建</w:t></w:r><w:r><w:t>学校3所</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>县教育局</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>县财政局</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>12月底前</w:t></w:r></w:p></w:tc></w:tr>
</w:tbl></w:body></w:document>"#;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("[Content_Types].xml", opts).expect("start");
        w.write_all(b"<Types/>").expect("write");
        w.start_file("word/document.xml", opts).expect("start");
        w.write_all(xml.as_bytes()).expect("write");
        w.finish().expect("finish");
    }
    let x = extract(buf.get_ref(), "plan.docx");
    assert_eq!(x.items.len(), 1, "{}\n{:#?}", x.text, x.items);
    let it = &x.items[0];
    assert_eq!(it.targets[0].value, 3.0);
    assert_eq!(it.units.len(), 2);
    assert_eq!(it.deadline.as_deref(), Some("12月底前"));
}

#[test]
fn table_flattened_with_runs_of_spaces() {
    let text = "关于印发2024年重点工作任务分工方案的通知\n\
序号    工作任务                      牵头单位      配合单位        完成时限\n\
1       新建社区养老服务中心10个      区民政局      区财政局        2024年底前\n\
2       完成老旧小区改造45个          区住建局      各街道办事处    长期坚持\n";
    let x = extract(text.as_bytes(), "spaces.txt");
    assert_eq!(x.document.kind, DocKind::Decomposition);
    assert_eq!(x.items.len(), 2, "{:#?}", x.items);
    assert_eq!(x.items[0].text, "新建社区养老服务中心10个");
    assert_eq!(x.items[1].units.len(), 2);
    assert_eq!(x.items[1].deadline.as_deref(), Some("长期坚持"));
}

#[test]
fn attachment_list_then_headings() {
    let text = "区政府办公室关于印发2025年区政府工作报告责任分解方案的通知\n\
附件:\n1.2025年区政府工作报告目标任务责任分解方案\n\
附件1\n2025年区政府工作报告目标任务责任分解方案\n\
一、主要预期目标\n\
1.地区生产总值增长6%左右。(责任单位:区发改局)\n\
2.城镇新增就业1.2万人。(责任单位:区人社局、各街道办事处)\n";
    let x = extract(text.as_bytes(), "list.txt");
    assert_eq!(x.plans.len(), 1, "{:#?}", x.plans);
    assert_eq!(x.plans[0].attachment.as_deref(), Some("附件1"));
    assert_eq!(x.plans[0].items, 2);
    assert_eq!(x.items[1].units[1].name, "各街道办事处");
    assert_eq!(x.items[0].category.as_deref(), Some("主要预期目标"));
}

#[test]
fn level_labels_and_warnings() {
    let text = "关于印发目标任务责任分解方案的通知\n\
1.规上工业增加值增长75%左右。(市级牵头单位:市经信局;区级牵头单位:市水务局)\n\
2.新增就业1万人。(市级牵头单位:市人社局;区级牵头单位:区人资局)\n\
3.新建公园2个。(市级牵头单位:市园林局;区级牵头单位:区城管局)\n";
    let x = extract(text.as_bytes(), "levels.txt");
    let first = &x.items[0];
    assert_eq!(first.units[0].level.as_deref(), Some("市"));
    assert!(
        first.warnings.iter().any(|w| w.contains("市水务局")),
        "{:?}",
        first.warnings
    );
    assert!(
        first.warnings.iter().any(|w| w.contains("typo")),
        "{:?}",
        first.warnings
    );
    assert!(x.items[1].warnings.is_empty());
}

#[test]
fn run_on_list_is_split_into_items() {
    let text = "关于印发重点任务分工方案的通知\n\
一、主要预期目标 1.地区生产总值增长6%左右。(牵头单位:区发改局)2.新增就业5000人以上。(牵头单位:区人社局) \
二、重点任务 3.新建学校2所。(牵头单位:区教育局;配合单位:区财政局)\n";
    let x = extract(text.as_bytes(), "runon.txt");
    assert_eq!(x.items.len(), 3, "{:#?}", x.items);
    assert_eq!(x.items[2].section, vec!["二、重点任务".to_string()]);
    assert_eq!(x.items[2].units.len(), 2);
}

#[test]
fn sub_points_stay_inside_their_item() {
    let text = "关于印发重点任务分工方案的通知\n\
1.推进城市更新:\n(1)改造老旧小区30个;\n(2)新建口袋公园5个。\n(牵头单位:区住建局)\n\
2.新增就业1万人。(牵头单位:区人社局)\n\
3.新建学校2所。(牵头单位:区教育局)\n";
    let x = extract(text.as_bytes(), "sub.txt");
    assert_eq!(x.items.len(), 3, "{:#?}", x.items);
    assert_eq!(x.items[0].targets.len(), 2);
    assert_eq!(x.items[0].units.len(), 1);
}

/// A page read as browsers read it (issue 25): optional end tags left out, hundreds of void
/// elements, every named entity.
const TABLE_WITHOUT_END_TAGS: &str = r#"<!DOCTYPE html><html><head><title>某区2025年重点工作任务分工方案</title></head><body>
<table>
<tr><th>序号<th>工作任务<th>牵头单位<th>配合单位<th>完成时限
<tr><td>1<td>新建改建农村公路50公里<td>区交通局<td>区财政局、各街道办事处<td>2025年10月底前
<tr><td>2<td>新增城镇就业1.2万人以上<td>区人社局<td>区发改局<td>年内
</table></body></html>"#;

#[test]
fn html_table_without_optional_end_tags_keeps_its_rows() {
    let x = extract(TABLE_WITHOUT_END_TAGS.as_bytes(), "table.html");
    assert_eq!(x.items.len(), 2, "{}\n{:#?}", x.text, x.items);
    assert!(x.items[0].text.contains("农村公路"), "{:#?}", x.items);
    assert!(x.items[1].units.iter().any(|u| u.name == "区人社局"));
}

#[test]
fn html_with_many_void_elements_is_read_as_a_page_not_stripped() {
    let html = format!(
        "<html><head><title>关于印发2025年重点工作责任分解方案的通知</title>\
         <script>var lead = \"(牵头单位:区财政局\\\"\";</script></head><body>\
         <p>一、主要预期目标</p>{}\
         <p>1.地区生产总值增长6%左右。(牵头单位:区发改局;责任单位:区统计局)</p>\
         <p>2.城镇新增就业3000人以上。(牵头单位:区人社局)</p>\
         <p>3.新建公园5个。(牵头单位:区园林局)</p></body></html>",
        "<br>".repeat(600)
    );
    let x = extract(html.as_bytes(), "page.html");
    assert!(
        !x.text.contains("var lead"),
        "script text leaked: {}",
        x.text
    );
    let units = unit_names(&x);
    assert!(
        !units.iter().any(|u| u.contains('"')),
        "{units:?} in {}",
        x.text
    );
    assert!(units.contains(&"区园林局"), "{units:?} in {}", x.text);
}

#[test]
fn html_entities_are_decoded_by_the_specification() {
    let html = "<html><body><p>1.新建公园5个。(牵头单位:&lsquo;区发改局&rsquo;、区科技局)</p>\
                <p>PM2.5浓度&le;35微克/立方米,优良天数比例&ge;80%&permil;&hellip;&times;&nbsp没有分号</p>\
                </body></html>";
    let x = extract(html.as_bytes(), "page.html");
    for raw in [
        "&lsquo", "&rsquo", "&le", "&ge", "&permil", "&hellip", "&times", "&nbsp",
    ] {
        assert!(!x.text.contains(raw), "{raw} left in {}", x.text);
    }
    assert!(
        x.text.contains("≤35") && x.text.contains("≥80%‰…×"),
        "{}",
        x.text
    );
    assert!(x.text.contains("‘区发改局’"), "{}", x.text);
    let units = unit_names(&x);
    assert!(!units.iter().any(|u| u.contains('&')), "{units:?}");
}

#[test]
fn a_page_nested_too_deep_for_a_tree_is_read_flat_with_the_same_rules() {
    let depth = 3000;
    let html = format!(
        "<html><head><title>某区重点工作任务分工方案</title><script>var x = \"牵头单位:脚本\";</script></head><body>\
         <div class=\"nav\">首页 | 新闻</div>{}<table><tr><td>1<td>新建公园5个<td>区园林局</table>{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let x = extract(html.as_bytes(), "deep.html");
    assert!(
        !x.text.contains("脚本") && !x.text.contains("首页"),
        "{}",
        x.text
    );
    assert!(x.text.contains("1 | 新建公园5个 | 区园林局"), "{}", x.text);
    assert_eq!(
        x.document.title.as_deref(),
        Some("某区重点工作任务分工方案")
    );
}

/// A progress list whose items carry their responsibility and their progress on one run-on
/// line: the progress after "实际完成情况:" is the item's outcome, not part of the unit list.
#[test]
fn progress_after_a_unit_label_on_the_same_line() {
    let text = "2024年民生实事项目1—6月进展情况公示如下。\n\
        1.新建城市书房20家。 牵头领导:张某 责任单位:市文广旅局 实际完成情况:已建成12家,完成年度目标任务的60%。\n\
        2.改造农贸市场15个。 责任单位:市商务局 配合单位:各区政府 实际完成情况:已完工9个。\n";
    let x = extract(text.as_bytes(), "progress.txt");
    assert_eq!(x.document.kind, DocKind::PlanExecution);
    assert_eq!(x.items.len(), 2, "{:#?}", x.items);
    let first = &x.items[0];
    assert_eq!(
        first
            .units
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["市文广旅局"]
    );
    assert_eq!(first.targets[0].value, 20.0);
    let done: Vec<f64> = first.actual.iter().map(|a| a.value).collect();
    assert!(
        done.contains(&12.0) && done.contains(&60.0),
        "{:?}",
        first.actual
    );
    let second = &x.items[1];
    assert_eq!(
        second.actual.iter().map(|a| a.value).collect::<Vec<_>>(),
        [9.0]
    );
}
