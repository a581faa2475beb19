//! Rules about indicators, free of I/O: which family an indicator belongs to (so the same
//! indicator is recognised across documents and levels), whether a stated outcome met its
//! target, and whether a lower level's target is weaker than the level above.

use duban_proto::v1::{Comparator, Quantity, Verdict};

/// Indicator families of the genre, most specific first: a metric mentioning 能耗 is an energy
/// indicator even though it also mentions 地区生产总值.
const FAMILIES: &[(&str, &[&str])] = &[
    ("energy_intensity", &["能耗"]),
    ("carbon_intensity", &["碳排放"]),
    ("unemployment_rate", &["失业率"]),
    ("new_urban_jobs", &["新增就业"]),
    ("consumer_prices", &["居民消费价格", "消费价格", "物价"]),
    ("disposable_income", &["可支配收入", "居民收入"]),
    (
        "budget_revenue",
        &[
            "一般公共预算收入",
            "地方财政收入",
            "财政收入",
            "一般预算收入",
        ],
    ),
    ("fixed_investment", &["固定资产投资"]),
    ("retail_sales", &["社会消费品零售"]),
    ("industrial_value_added", &["工业增加值"]),
    ("foreign_trade", &["进出口", "外贸"]),
    ("foreign_investment", &["利用外资", "外商直接投资"]),
    ("major_projects", &["重大项目", "亿元以上项目"]),
    (
        "gdp",
        &["地区生产总值", "生产总值", "gdp", "经济增长", "经济总量"],
    ),
];

/// Words that say how a figure is stated rather than what it measures.
const NOISE: &[&str] = &[
    "全年",
    "年度",
    "预期目标",
    "预期",
    "目标",
    "预计",
    "计划",
    "实现",
    "完成",
    "力争",
    "确保",
    "同比",
    "全市",
    "全省",
    "全区",
    "全县",
    "左右",
    "以上",
    "以内",
];

fn unit_class(unit: &str) -> &'static str {
    match unit {
        "%" | "个百分点" => "%",
        u if u.ends_with('元') => "元",
        _ => "count",
    }
}

/// The family key of an indicator: its family (or its metric stripped of wording noise) and
/// the class of its unit, so a growth rate and an amount of the same family stay apart.
pub fn metric_key(metric: &str, unit: &str) -> String {
    let lowered = metric.to_lowercase();
    // A share of something (占GDP比重) is its own indicator, not the thing it is a share of.
    let is_share = lowered.contains("比重") || lowered.contains('占');
    let family = FAMILIES
        .iter()
        .find(|(_, words)| !is_share && words.iter().any(|w| lowered.contains(w)))
        .map(|(family, _)| (*family).to_string());
    let base = family.unwrap_or_else(|| {
        let mut stripped = lowered;
        for word in NOISE {
            stripped = stripped.replace(word, "");
        }
        stripped.retain(|c| !c.is_whitespace() && !c.is_ascii_punctuation());
        stripped
    });
    let growth = if unit_class(unit) == "%" && metric.contains("增长") {
        "growth"
    } else {
        ""
    };
    format!(
        "{base}{}{growth}|{}",
        if growth.is_empty() { "" } else { "_" },
        unit_class(unit)
    )
}

/// Government levels from the top down; plans of other levels sort last.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "国家" => 0,
        "省" => 1,
        "市" => 2,
        "区" | "县" => 3,
        "街道" | "乡镇" => 4,
        _ => 9,
    }
}

fn comparator(q: &Quantity) -> Comparator {
    Comparator::try_from(q.comparator).unwrap_or(Comparator::Unspecified)
}

/// Growth and count targets are ceilings when the text says so (降至, 控制在, 以内) and floors
/// otherwise.
fn is_ceiling(q: &Quantity) -> bool {
    comparator(q) == Comparator::AtMost
}

/// "About" allows a small shortfall: 5% of the target, as offices read 左右.
fn tolerance(target: &Quantity) -> f64 {
    if comparator(target) == Comparator::About {
        target.value.abs() * 0.05
    } else {
        1e-9
    }
}

/// How a stated outcome compares with its target.
pub fn judge(target: &Quantity, outcome: &Quantity) -> Verdict {
    if unit_class(&target.unit) != unit_class(&outcome.unit)
        || (unit_class(&target.unit) == "count" && target.unit != outcome.unit)
        || comparator(target) == Comparator::Unspecified
    {
        return Verdict::Unclear;
    }
    let tol = tolerance(target);
    let met = if is_ceiling(target) {
        outcome.value <= target.value + tol
    } else {
        outcome.value >= target.value - tol
    };
    if met { Verdict::Met } else { Verdict::Missed }
}

/// The outcome among `outcomes` that reports on `target`: same unit class, the same family
/// preferred.
pub fn matching_outcome<'a>(target: &Quantity, outcomes: &'a [Quantity]) -> Option<&'a Quantity> {
    let key = metric_key(&target.metric, &target.unit);
    let same_class: Vec<&Quantity> = outcomes
        .iter()
        .filter(|o| unit_class(&o.unit) == unit_class(&target.unit))
        .collect();
    same_class
        .iter()
        .find(|o| metric_key(&o.metric, &o.unit) == key)
        .or_else(|| same_class.first())
        .copied()
}

/// Whether `lower` (a lower level's target) asks for less than `upper` (the level above).
pub fn is_weaker(lower: &Quantity, upper: &Quantity) -> bool {
    if unit_class(&lower.unit) != unit_class(&upper.unit) || is_ceiling(lower) != is_ceiling(upper)
    {
        return false;
    }
    // Counts and amounts of a district are naturally smaller than a city's; only rates compare.
    if unit_class(&lower.unit) != "%" {
        return false;
    }
    if is_ceiling(upper) {
        lower.value > upper.value + 1e-9
    } else {
        lower.value < upper.value - 1e-9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(metric: &str, value: f64, unit: &str, comparator: Comparator) -> Quantity {
        Quantity {
            metric: metric.into(),
            value,
            unit: unit.into(),
            comparator: comparator as i32,
            ..Default::default()
        }
    }

    #[test]
    fn the_same_indicator_is_recognised_across_wordings() {
        assert_eq!(
            metric_key("经济增长", "%"),
            metric_key("地区生产总值增长", "%")
        );
        assert_eq!(
            metric_key("全年地区生产总值预期目标增长", "%"),
            metric_key("GDP增长", "%")
        );
        assert_ne!(
            metric_key("地区生产总值", "元"),
            metric_key("地区生产总值增长", "%")
        );
        assert_ne!(
            metric_key("单位地区生产总值能耗降低", "%"),
            metric_key("地区生产总值增长", "%")
        );
        assert_ne!(
            metric_key("数字经济核心产业增加值占地区生产总值比重", "%"),
            metric_key("地区生产总值增长", "%")
        );
        assert_eq!(
            metric_key("新建口袋公园", "个"),
            metric_key("全年新建口袋公园", "个")
        );
    }

    #[test]
    fn outcomes_are_judged_by_the_comparator() {
        let gdp = q("地区生产总值增长", 6.5, "%", Comparator::Equal);
        assert_eq!(
            judge(&gdp, &q("增长", 6.5, "%", Comparator::About)),
            Verdict::Met
        );
        let revenue = q("一般公共预算收入增长", 5.0, "%", Comparator::Equal);
        assert_eq!(
            judge(&revenue, &q("同比增长", 0.8, "%", Comparator::Equal)),
            Verdict::Missed
        );
        let about = q("经济增长", 6.0, "%", Comparator::About);
        assert_eq!(
            judge(&about, &q("增长", 5.8, "%", Comparator::Equal)),
            Verdict::Met
        );
        assert_eq!(
            judge(&about, &q("增长", 5.2, "%", Comparator::Equal)),
            Verdict::Missed
        );
        let ceiling = q("城镇调查失业率", 5.5, "%", Comparator::AtMost);
        assert_eq!(
            judge(&ceiling, &q("失业率", 5.1, "%", Comparator::Equal)),
            Verdict::Met
        );
        assert_eq!(
            judge(&revenue, &q("收入", 1.37e10, "元", Comparator::Equal)),
            Verdict::Unclear
        );
    }

    #[test]
    fn picks_the_outcome_in_the_targets_unit() {
        let revenue = q("一般公共预算收入预期目标增长", 5.0, "%", Comparator::Equal);
        let outcomes = [
            q("一般公共预算收入", 1.37e10, "元", Comparator::Equal),
            q("同比增长", 0.8, "%", Comparator::Equal),
        ];
        assert_eq!(matching_outcome(&revenue, &outcomes).unwrap().value, 0.8);
    }

    #[test]
    fn weaker_means_a_lower_floor_or_a_higher_ceiling() {
        let city = q("地区生产总值增长", 6.0, "%", Comparator::About);
        assert!(is_weaker(
            &q("地区生产总值增长", 5.5, "%", Comparator::About),
            &city
        ));
        assert!(!is_weaker(
            &q("地区生产总值增长", 6.5, "%", Comparator::About),
            &city
        ));
        let cap = q("失业率", 5.5, "%", Comparator::AtMost);
        assert!(is_weaker(&q("失业率", 6.0, "%", Comparator::AtMost), &cap));
    }
}
