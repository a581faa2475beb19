//! Which government a relative level names. A district's notice decomposes "2025年市《政府工作
//! 报告》": the report of *its* city, which the notice does not name there. Scope rules match a
//! plan's source report against the reader's government (a city's supervisor reads its
//! districts' decompositions of the city's report), so the relative 市/省/区/县 is written out
//! as the government it means, found in the notice itself where it names its issuer in full
//! (武汉市武昌区人民政府办公室: 武昌区's city is 武汉市). A level the document gives no name
//! for stays as written: nobody above reads that plan, which is the safe side.

use duban_extract::Extraction;
use duban_kit::auth;

/// Characters that end a place name when reading backwards from its level: other levels, the
/// offices that precede a name in a sentence, and particles no place name starts with (州, 本
/// and 和 are left out for 苏州, 本溪 and 和田).
const BOUNDARY: &[char] = &[
    '省', '市', '区', '县', '府', '室', '厅', '局', '委', '会', '部', '办', '的', '及', '与', '在',
    '对', '为', '由', '经', '是', '全', '各', '我',
];
/// The levels a government may have, the character its name ends with.
const LEVELS: &[char] = &['省', '市', '区', '县', '州'];
/// Place names run two to four characters before their level (武汉, 乌鲁木齐).
const NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=4;

/// Writes out the relative level of each plan's source report ("2025年市《…》" in a notice of
/// 武汉市武昌区 becomes "2025年武汉市《…》").
pub fn resolve_source_reports(extraction: &mut Extraction) {
    let issuer = extraction.document.issuer.as_deref().unwrap_or_default();
    let own = auth::government_of_issuer(issuer).to_string();
    if own.is_empty() {
        return;
    }
    let text = &extraction.text;
    for plan in &mut extraction.plans {
        let Some(report) = plan.source_report.as_mut() else {
            continue;
        };
        let Some((at, level)) = relative_level(report) else {
            continue;
        };
        if let Some(government) = government_at(level, &own, text) {
            report.replace_range(at..at + level.len_utf8(), &government);
        }
    }
}

/// The byte offset and character of a bare level right before the report's title mark, with
/// nothing but a year before it: "2025年市《" → 市; "武汉市《" names its city already.
fn relative_level(report: &str) -> Option<(usize, char)> {
    let mark = report.find(['《', '〈'])?;
    let head = report[..mark].trim_end();
    let level = head.chars().next_back()?;
    if !LEVELS.contains(&level) {
        return None;
    }
    let before = head[..head.len() - level.len_utf8()].trim_end();
    let only_a_year = before.is_empty()
        || before
            .strip_suffix('年')
            .is_some_and(|year| year.trim().chars().all(|c| c.is_ascii_digit()));
    only_a_year.then_some((head.len() - level.len_utf8(), level))
}

/// The government at `level` above (or at) `own`, named in `text`: `own` itself when it is of
/// that level, else its parent's, found by walking up at most two steps.
fn government_at(level: char, own: &str, text: &str) -> Option<String> {
    let mut government = own.to_string();
    for _ in 0..3 {
        if government.ends_with(level) {
            return Some(government);
        }
        government = parent(&government, text)?;
    }
    None
}

/// The government the text writes right before `government` most often ("武汉市武昌区" →
/// 武汉市).
fn parent(government: &str, text: &str) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (at, _) in text.match_indices(government) {
        let Some(name) = name_ending_at(&text[..at]) else {
            continue;
        };
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
    }
    // The most frequent; the first seen among equals.
    let mut best: Option<(String, usize)> = None;
    for (name, count) in counts {
        if best.as_ref().is_none_or(|(_, most)| count > *most) {
            best = Some((name, count));
        }
    }
    best.map(|(name, _)| name)
}

/// The place name with its level that `before` ends with, e.g. "…办公室武汉市" → 武汉市.
fn name_ending_at(before: &str) -> Option<String> {
    let mut chars = before.chars().rev();
    let level = chars.next().filter(|c| LEVELS.contains(c))?;
    let name: Vec<char> = chars
        .take_while(|c| is_han(*c) && !BOUNDARY.contains(c))
        .take(*NAME_CHARS.end() + 1)
        .collect();
    if !NAME_CHARS.contains(&name.len()) {
        return None;
    }
    Some(name.iter().rev().chain([level].iter()).collect())
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_extract::{DocumentMeta, PlanMeta};

    fn notice(issuer: &str, text: &str, reports: &[&str]) -> Extraction {
        Extraction {
            document: DocumentMeta {
                issuer: Some(issuer.to_string()),
                ..Default::default()
            },
            plans: reports
                .iter()
                .map(|r| PlanMeta {
                    source_report: Some(r.to_string()),
                    ..Default::default()
                })
                .collect(),
            text: text.to_string(),
            ..Default::default()
        }
    }

    fn reports(x: &Extraction) -> Vec<&str> {
        x.plans
            .iter()
            .filter_map(|p| p.source_report.as_deref())
            .collect()
    }

    #[test]
    fn relative_levels_are_written_out_from_the_issuers_full_name() {
        let mut x = notice(
            "武昌区人民政府办公室",
            "区人民政府办公室关于印发……\n武汉市武昌区人民政府办公室\n2025年2月19日",
            &[
                "2025年省《政府工作报告》",
                "2025年市《政府工作报告》",
                "2025年区《政府工作报告》",
                "《武汉市政府工作报告》",
            ],
        );
        resolve_source_reports(&mut x);
        assert_eq!(
            reports(&x),
            [
                // No province is named before 武汉市: left as written.
                "2025年省《政府工作报告》",
                "2025年武汉市《政府工作报告》",
                "2025年武昌区《政府工作报告》",
                "《武汉市政府工作报告》",
            ]
        );
    }

    #[test]
    fn two_steps_up_reach_the_province() {
        let mut x = notice(
            "江夏区人民政府",
            "对湖北省武汉市江夏区的要求。武汉市江夏区人民政府",
            &["省《政府工作报告》", "2024 年 市 《政府工作报告》"],
        );
        resolve_source_reports(&mut x);
        assert_eq!(
            reports(&x),
            ["湖北省《政府工作报告》", "2024 年 武汉市 《政府工作报告》"]
        );
    }

    #[test]
    fn words_before_a_level_are_not_a_place() {
        // 全市 and 各市 are not cities; a name of one character is none.
        assert_eq!(name_ending_at("落实全市"), None);
        assert_eq!(name_ending_at("，各市"), None);
        assert_eq!(name_ending_at("江苏省苏州市"), Some("苏州市".into()));
        assert_eq!(name_ending_at("办公室武汉市"), Some("武汉市".into()));
        assert_eq!(name_ending_at("乌鲁木齐市"), Some("乌鲁木齐市".into()));
        let mut x = notice(
            "武昌区人民政府办公室",
            "全市武昌区",
            &["2025年市《政府工作报告》"],
        );
        resolve_source_reports(&mut x);
        assert_eq!(reports(&x), ["2025年市《政府工作报告》"]);
    }

    #[test]
    fn an_issuer_without_a_government_resolves_nothing() {
        let mut x = notice("", "武汉市武昌区", &["2025年市《政府工作报告》"]);
        resolve_source_reports(&mut x);
        assert_eq!(reports(&x), ["2025年市《政府工作报告》"]);
    }
}
