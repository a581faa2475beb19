//! Outcomes next to targets: where a progress report turns from the year's task to what was
//! done ("上半年,…", "截至10月底,…", "实际完成", "预计全年"), and which of the figures stated
//! there are results — not the old level of "从580元提高到610元", not a rule ("每人每年200元
//! 总额内"), not a gap or a ranking ("高出全省0.1个百分点", "排第7位").

use super::quantity::{self, Found};
use crate::{Comparator, Quantity};
use regex::Regex;
use std::sync::LazyLock;

/// Words that open the outcome part of an item.
static OUTCOME_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[。;,:\s])((?:今年)?(?:上半年|前三季度|一季度|二季度|三季度|1-\d{1,2}月|1—\d{1,2}月|1至\d{1,2}月|截至|截止|目前|今年以来|年初以来|实际完成|预计全年|完成情况)[,:]?)")
        .expect("outcome start regex")
});

/// Where the outcome part of `text` begins, if it says.
pub fn outcome_start(text: &str) -> Option<usize> {
    OUTCOME_START
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.start())
}

/// Is `text` worded as a result (spent, completed, reached, in total…)?
pub fn reads_as_result(text: &str) -> bool {
    [
        "已完成",
        "已建成",
        "已开工",
        "完成年初计划",
        "共新建",
        "累计完成",
        "累计",
        "支出",
        "实现了",
        "提高到",
        "提高至",
        "达到目标",
        "完成投资",
        "已投入",
        "全部完成",
    ]
    .iter()
    .any(|w| crate::text::has(text, w))
}

/// Verbs after a figure that make it an old level: "从580元提高到610元".
const TO_NEW_LEVEL: &[&str] = &[
    "提高到",
    "提高至",
    "增加到",
    "增加至",
    "上升到",
    "上升至",
    "降低到",
    "降低至",
    "下降到",
    "下降至",
    "调整到",
    "调整至",
    "扩大到",
    "扩大至",
    "延长到",
    "延长至",
    "延长",
    "缩短到",
    "缩短至",
    "减少到",
    "减少至",
    "提升到",
    "提升至",
    "增至",
    "降至",
    "提高",
];

/// Words after a figure that make it a limit, not a result.
const LIMIT_AFTER: &[&str] = &["总额内", "额度内", "范围内", "标准内", "以内的"];

/// Words after a figure that mark it done: "21所、9所已完成".
const DONE_AFTER: &[&str] = &[
    "已完成",
    "已建成",
    "已开工",
    "已投用",
    "已竣工",
    "已投入使用",
];

static INDEX_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:持平|上涨|下降|指数)\s*\((\d{2,3}(?:\.\d+)?)\)").expect("index regex")
});

fn after(text: &str, f: &Found) -> &'static str {
    let rest = text.get(f.end..).unwrap_or("");
    // the words start with one of these characters: most figures are followed by none
    if !rest.starts_with([
        '提', '增', '上', '降', '下', '调', '扩', '延', '缩', '减', '总', '额', '范', '标', '以',
        '已',
    ]) {
        return "";
    }
    for w in TO_NEW_LEVEL.iter().chain(LIMIT_AFTER).chain(DONE_AFTER) {
        if crate::text::starts(rest, w) {
            return w;
        }
    }
    ""
}

/// Sentences that set a policy's parameters rather than a goal: "可返还…50%", "可申请最高不
/// 超过15万元", "按…50%的标准确定".
static POLICY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"可(?:申请|返还|按|给予|享受|获得|领取|放宽|提高到)|给予[^。]{0,12}(?:补贴|补助|奖励|贴息)|(?:补贴|补助|返还|贴息|奖励)标准|的标准确定|最高不超过|最高可")
        .expect("policy regex")
});

/// Words every policy's wording holds.
static POLICY_HINTS: LazyLock<aho_corasick::AhoCorasick> =
    LazyLock::new(|| crate::text::word_search(["可", "给予", "标准", "最高"]));

/// The sentence (between 。;! and ?) around a byte offset.
fn sentence_at(text: &str, at: usize) -> &str {
    let before = text.get(..at).unwrap_or("");
    let s = before.rfind(['。', ';', '!', '?', '\n']).map_or(0, |p| {
        p + before
            .get(p..)
            .and_then(|t| t.chars().next())
            .map_or(1, char::len_utf8)
    });
    let after = text.get(at..).unwrap_or("");
    let e = after
        .find(['。', ';', '!', '?', '\n'])
        .map_or(text.len(), |p| at + p);
    text.get(s..e).unwrap_or("")
}

/// The targets a task's text sets: its figures, without the old level of "从4周延长至12周"
/// and without the parameters of a policy ("可返还其上年度实际缴纳失业保险费的50%").
pub fn targets(text: &str) -> Vec<Quantity> {
    let found = quantity::find_quantities(text);
    if found.is_empty() {
        return Vec::new();
    }
    // a policy's wording is rare: look for it once, and sentence by sentence only if found
    let policy = POLICY_HINTS.is_match(text) && POLICY.is_match(text);
    found
        .into_iter()
        .filter(|f| !TO_NEW_LEVEL.contains(&after(text, f)))
        .filter(|f| !policy || !POLICY.is_match(sentence_at(text, f.start)))
        .map(|f| f.quantity)
        .collect()
}

/// The figures of an outcome text: (results, targets stated along with them).
pub fn outcomes(text: &str) -> (Vec<Quantity>, Vec<Quantity>) {
    let found = quantity::find_quantities(text);
    let mut results = Vec::new();
    let mut targets = Vec::new();
    for (k, f) in found.iter().enumerate() {
        let next_done = found.get(k + 1).is_some_and(|n| {
            DONE_AFTER.contains(&after(text, n))
                && text
                    .get(f.end..n.start)
                    .is_some_and(|gap| gap.trim() == "、")
        });
        let a = after(text, f);
        if next_done {
            targets.push(f.quantity.clone());
            continue;
        }
        if TO_NEW_LEVEL.contains(&a) || LIMIT_AFTER.contains(&a) || is_gap(f) {
            continue;
        }
        if states_plan(text, f) {
            targets.push(f.quantity.clone());
            continue;
        }
        results.push(f.quantity.clone());
    }
    for c in INDEX_VALUE.captures_iter(text) {
        if let (Some(all), Some(v)) = (c.get(0), c.get(1))
            && let Ok(value) = v.as_str().parse::<f64>()
        {
            results.push(Quantity {
                phrase: all.as_str().to_string(),
                metric: "指数".to_string(),
                value,
                value_max: None,
                unit: String::new(),
                comparator: Comparator::Equal,
            });
        }
    }
    (results, targets)
}

/// "高出全省0.1个百分点", "塌目标1.8个百分点": a gap to a target or a peer, not a result.
fn is_gap(f: &Found) -> bool {
    f.quantity.unit.contains("百分点")
}

/// "累计下达搬迁计划53.8万人": a plan stated among the results.
fn states_plan(text: &str, f: &Found) -> bool {
    let before = text.get(..f.start).unwrap_or("");
    let clause = before
        .rsplit([',', ';', '。', ':'])
        .next()
        .unwrap_or(before);
    crate::text::has(clause, "下达") || clause.starts_with("计划") || clause.ends_with("计划")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[Quantity]) -> Vec<f64> {
        v.iter().map(|q| q.value).collect()
    }

    #[test]
    fn old_levels_limits_and_gaps_are_not_results() {
        let (r, _) = outcomes("城乡医保各级财政补助标准从年人均580元提高到610元。");
        assert_eq!(values(&r), vec![610.0]);
        let (r, _) = outcomes("落实每人每年200元总额内,可以一次或多次报销。");
        assert!(r.is_empty());
        let (r, _) = outcomes("比上年同期增长28.6%,高出全省0.1个百分点,增幅全省排第7位");
        assert_eq!(values(&r), vec![28.6]);
        let (r, t) = outcomes("新改扩建公办义务教育学校21所、9所已完成,新增学位2.28万个");
        assert_eq!(values(&r), vec![9.0, 22800.0]);
        assert_eq!(values(&t), vec![21.0]);
        let (r, _) = outcomes("居民消费价格指数同比持平(100)");
        assert_eq!(values(&r), vec![100.0]);
    }

    #[test]
    fn targets_without_old_levels_or_policy_parameters() {
        assert_eq!(
            values(&targets("一次处方医保用药量从4周延长至最多12周")),
            vec![12.0]
        );
        assert!(targets("对不裁员的参保企业,可返还其上年度实际缴纳失业保险费的50%。").is_empty());
        assert!(
            targets("符合条件的人员自主创业的,可申请最高不超过15万元的创业担保贷款。").is_empty()
        );
        assert_eq!(values(&targets("到2025年,总规模达到2万亿元")), vec![2e12]);
    }

    #[test]
    fn where_outcomes_start() {
        let t = "新开工亿元以上产业项目100个。上半年,引进项目3个";
        assert_eq!(outcome_start(t), t.find("上半年"));
        assert_eq!(outcome_start("培育平台2家,示范企业总数达30家。"), None);
    }
}
