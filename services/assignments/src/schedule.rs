//! Reporting schedules, free of I/O: reading a notice's rule ("从2025年第二季度起,每个季度第1个月的
//! 10日前…") into a frequency, a first period and a due day, and laying out the periods with
//! their due dates. Dates are calendar dates in China Standard Time.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
pub use duban_kit::calendar::{Frequency, Period};
use regex::Regex;

/// A schedule: which periods are reported on and when each report is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub frequency: Frequency,
    pub first: Period,
    pub last: Period,
    pub due_day: u32,
    pub due_month_after: u32,
}

/// A period laid out with its dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub period: Period,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub due: NaiveDate,
}

/// No plan reports on more than a few years; a longer span is an input error.
const MAX_PERIODS: usize = 120;

impl Spec {
    pub fn slots(&self) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut period = self.first;
        while out.len() < MAX_PERIODS {
            let (Some(start), Some(end), Some(due)) = (
                period.start_date(),
                period.end_date(),
                period.due_date(self.due_day, self.due_month_after),
            ) else {
                break;
            };
            out.push(Slot {
                period,
                start,
                end,
                due,
            });
            if period == self.last {
                break;
            }
            period = period.next();
        }
        out
    }
}

fn chinese_digit(s: &str) -> Option<u32> {
    match s {
        "一" | "1" => Some(1),
        "二" | "2" => Some(2),
        "三" | "3" => Some(3),
        "四" | "4" => Some(4),
        _ => s.parse().ok(),
    }
}

static DAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2})[日号]").expect("valid regex"));
static START_QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{4})年(?:第)?([一二三四1-4])季度(?:起|开始)").expect("valid regex")
});
static START_MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{4})年(\d{1,2})月(?:份)?(?:起|开始)").expect("valid regex"));
static FIRST_MONTH_OF_QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:季度|季)(?:的)?第[1一](?:个)?月|季初|次季|下一季度|下季度")
        .expect("valid regex")
});

/// Reads a notice's reporting rule. A rule that says nothing usable yields the usual default:
/// quarterly, due on the 10th of the month after each quarter of `year`.
pub fn from_rule(rule: &str, year: i32) -> Spec {
    let frequency = if rule.contains("季") {
        Frequency::Quarterly
    } else if rule.contains("半年") {
        Frequency::HalfYearly
    } else if ["每月", "每个月", "月度", "次月", "下月", "上月", "当月"]
        .iter()
        .any(|w| rule.contains(w))
    {
        Frequency::Monthly
    } else {
        Frequency::Quarterly
    };
    let due_day = DAY
        .captures(rule)
        .and_then(|c| c[1].parse::<u32>().ok())
        .filter(|d| (1..=31).contains(d))
        .unwrap_or(10);
    let due_month_after = match frequency {
        // "每个季度第1个月的10日前": in the first month of the next quarter.
        Frequency::Quarterly if FIRST_MONTH_OF_QUARTER.is_match(rule) => 1,
        Frequency::Quarterly if rule.contains("季末") || rule.contains("最后一个月") => 0,
        Frequency::Monthly if !(rule.contains("次月") || rule.contains("下月")) => 0,
        _ => 1,
    };
    // The first due date falls in the period the rule starts from; the first period reported on
    // is the one whose due date that is.
    let start = match frequency {
        Frequency::Quarterly => START_QUARTER.captures(rule).and_then(|c| {
            let q = chinese_digit(&c[2])?;
            Period {
                year: c[1].parse().ok()?,
                frequency,
                index: q,
            }
            .start_date()
        }),
        Frequency::Monthly => START_MONTH
            .captures(rule)
            .and_then(|c| NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, 1)),
        Frequency::HalfYearly => None,
    };
    let mut first = Period::first_of(year, frequency);
    if let Some(start) = start {
        let mut candidate = Period::first_of(start.year() - 1, frequency);
        for _ in 0..(frequency.per_year() * 3) {
            if candidate
                .due_date(due_day, due_month_after)
                .is_some_and(|due| due >= start)
            {
                first = candidate;
                break;
            }
            candidate = candidate.next();
        }
    }
    Spec {
        frequency,
        first,
        last: Period::last_of(year.max(first.year), frequency),
        due_day,
        due_month_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due_dates(spec: &Spec) -> Vec<(String, String)> {
        spec.slots()
            .iter()
            .map(|s| (s.period.to_string(), s.due.to_string()))
            .collect()
    }

    #[test]
    fn reads_the_quarterly_rule_of_a_district_notice() {
        let spec = from_rule(
            "从2025年第二季度起,每个季度第1个月的10日前,各责任单位要将…完成情况,经单位主要领导签字同意后报区政府督查室。",
            2025,
        );
        assert_eq!(spec.frequency, Frequency::Quarterly);
        assert_eq!(
            due_dates(&spec),
            [
                ("2025Q1".to_string(), "2025-04-10".to_string()),
                ("2025Q2".to_string(), "2025-07-10".to_string()),
                ("2025Q3".to_string(), "2025-10-10".to_string()),
                ("2025Q4".to_string(), "2026-01-10".to_string()),
            ]
        );
    }

    #[test]
    fn reads_monthly_and_half_yearly_rules() {
        let monthly = from_rule("每月25日前报送当月工作进展", 2025);
        assert_eq!(monthly.frequency, Frequency::Monthly);
        assert_eq!(monthly.slots().len(), 12);
        assert_eq!(monthly.slots()[1].due.to_string(), "2025-02-25");
        let next_month = from_rule("请于次月5日前报送上月进展", 2025);
        assert_eq!(next_month.slots()[11].due.to_string(), "2026-01-05");
        let half = from_rule("每半年报送一次", 2024);
        assert_eq!(
            due_dates(&half)[1],
            ("2024H2".to_string(), "2025-01-10".to_string())
        );
    }

    #[test]
    fn a_silent_rule_gets_the_default() {
        let spec = from_rule("", 2026);
        assert_eq!(spec.frequency, Frequency::Quarterly);
        assert_eq!(spec.first.to_string(), "2026Q1");
        assert_eq!(spec.slots()[0].due.to_string(), "2026-04-10");
    }

    #[test]
    fn due_days_are_clamped_to_the_month() {
        let p = Period::parse("2025M01").unwrap();
        assert_eq!(p.due_date(31, 1).unwrap().to_string(), "2025-02-28");
        assert_eq!(Period::parse("2025M1"), None);
        assert_eq!(Period::parse("2025Q0"), None);
        assert_eq!(
            Period::parse("2025H2")
                .unwrap()
                .end_date()
                .unwrap()
                .to_string(),
            "2025-12-31"
        );
    }
}
