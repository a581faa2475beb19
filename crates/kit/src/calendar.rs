//! The calendar the services share: reporting periods ("2025Q2", "2025M07", "2025H1"), what
//! day it is where the governments are (China Standard Time, whatever the server's zone), and
//! what a deadline as written (2025年6月底前, 年内, 长期坚持) means as a date.

use std::{fmt, sync::LazyLock};

use chrono::NaiveDate;
use regex::Regex;

/// Today in China Standard Time (UTC+8, no daylight saving), whatever the server's clock zone.
pub fn today_in_china() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A Unix time as people in China read it: "2026-12-06 18:30 (UTC+8)".
pub fn china_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || format!("Unix time {unix}"),
        |t| {
            format!(
                "{} (UTC+8)",
                (t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M")
            )
        },
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    Monthly,
    Quarterly,
    HalfYearly,
}

impl Frequency {
    /// How many periods a year has.
    pub fn per_year(self) -> u32 {
        match self {
            Frequency::Monthly => 12,
            Frequency::Quarterly => 4,
            Frequency::HalfYearly => 2,
        }
    }

    fn months(self) -> u32 {
        12 / self.per_year()
    }
}

/// One reporting period: the `index`-th quarter, month or half of `year` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub frequency: Frequency,
    pub index: u32,
}

impl Period {
    /// "2025Q2", "2025M07", "2025H1".
    pub fn parse(s: &str) -> Option<Period> {
        let year: i32 = s.get(..4)?.parse().ok()?;
        let (frequency, digits) = match s.get(4..5)? {
            "Q" => (Frequency::Quarterly, 1),
            "M" => (Frequency::Monthly, 2),
            "H" => (Frequency::HalfYearly, 1),
            _ => return None,
        };
        let rest = s.get(5..)?;
        if rest.len() != digits || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index: u32 = rest.parse().ok()?;
        (1..=frequency.per_year())
            .contains(&index)
            .then_some(Period {
                year,
                frequency,
                index,
            })
    }

    pub fn first_of(year: i32, frequency: Frequency) -> Period {
        Period {
            year,
            frequency,
            index: 1,
        }
    }

    pub fn last_of(year: i32, frequency: Frequency) -> Period {
        Period {
            year,
            frequency,
            index: frequency.per_year(),
        }
    }

    pub fn next(self) -> Period {
        if self.index == self.frequency.per_year() {
            Period {
                year: self.year + 1,
                index: 1,
                ..self
            }
        } else {
            Period {
                index: self.index + 1,
                ..self
            }
        }
    }

    fn first_month(self) -> u32 {
        (self.index - 1) * self.frequency.months() + 1
    }

    pub fn start_date(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1)
    }

    pub fn end_date(self) -> Option<NaiveDate> {
        self.next().start_date()?.pred_opt()
    }

    /// The due date: day `due_day` (clamped to the month's length) of the `month_after`-th
    /// month after the period's last month (0 = its last month).
    pub fn due_date(self, due_day: u32, month_after: u32) -> Option<NaiveDate> {
        let last_month = self.first_month() + self.frequency.months() - 1;
        let months = i64::from(self.year) * 12 + i64::from(last_month - 1) + i64::from(month_after);
        let year = i32::try_from(months.div_euclid(12)).ok()?;
        let month = u32::try_from(months.rem_euclid(12)).ok()? + 1;
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next_month = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let days = u32::try_from((next_month - first).num_days()).ok()?;
        NaiveDate::from_ymd_opt(year, month, due_day.clamp(1, days))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.frequency {
            Frequency::Quarterly => write!(f, "{}Q{}", self.year, self.index),
            Frequency::Monthly => write!(f, "{}M{:02}", self.year, self.index),
            Frequency::HalfYearly => write!(f, "{}H{}", self.year, self.index),
        }
    }
}

impl Period {
    /// The period as a bulletin writes it: 2025年第二季度, 2025年上半年, 2025年7月.
    pub fn label(self) -> String {
        const ORDINALS: [&str; 4] = ["一", "二", "三", "四"];
        let year = self.year;
        match (self.frequency, self.index) {
            (Frequency::Quarterly, n) => {
                let ordinal = ORDINALS.get(n as usize - 1).copied().unwrap_or_default();
                format!("{year}年第{ordinal}季度")
            }
            (Frequency::HalfYearly, 1) => format!("{year}年上半年"),
            (Frequency::HalfYearly, _) => format!("{year}年下半年"),
            (Frequency::Monthly, n) => format!("{year}年{n}月"),
        }
    }
}

/// What a deadline as written means: the last day it allows, or a standing task with none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Due {
    pub date: Option<NaiveDate>,
    /// 长期坚持, 持续推进, 常态化: the task has no end.
    pub ongoing: bool,
}

/// "2025年6月15日" / "6月15日前".
static DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]").expect("day regex")
});
/// "2022年10月底前", "12月底前", "9月投入使用", "六月份".
static MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(\d{4})\s*年\s*)?(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月")
        .expect("month regex")
});
/// "2025年底前", "年底前", "年末".
static YEAR_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{4})\s*年\s*(?:底|末|内)|年底|年末|年内").expect("year-end regex")
});
/// "一季度", "第3季度".
static QUARTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([一二三四1-4])\s*季度").expect("quarter regex"));
/// "两年内", "3年内", "用3-5年时间".
static YEARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:用\s*\d+\s*[-—~至到]\s*|^|[^\d])(\d{1,2}|[两二三四五六七八九十])\s*年(?:内|时间|左右时间)")
        .expect("years regex")
});
/// "2026年" on its own.
static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d{4})\s*年").expect("year regex"));

fn chinese_number(s: &str) -> Option<u32> {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    match s {
        "两" => Some(2),
        "十" => Some(10),
        "十一" => Some(11),
        "十二" => Some(12),
        d => DIGITS
            .iter()
            .position(|x| *x == d)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0),
    }
}

fn last_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    first_next.pred_opt()
}

/// What `deadline` (as written) means for a task of `year` (0: unknown, so only a deadline
/// that names its year gets a date). The first form found decides: a day, a month (its last
/// day), a quarter or half, the year's end, a number of years, a named year; 长期 / 持续 /
/// 常态化 mark a standing task. Anything else means nothing.
pub fn due(deadline: &str, year: i32) -> Due {
    let text = deadline.trim();
    let year_of = |written: Option<regex::Match<'_>>| -> Option<i32> {
        match written {
            Some(y) => y.as_str().parse().ok(),
            None => (year > 0).then_some(year),
        }
    };
    let date = if let Some(c) = DAY.captures(text) {
        let (m, d) = (c[2].parse().ok(), c[3].parse().ok());
        year_of(c.get(1))
            .zip(m.zip(d))
            .and_then(|(y, (m, d))| NaiveDate::from_ymd_opt(y, m, d))
    } else if let Some(c) = MONTH.captures(text) {
        year_of(c.get(1))
            .zip(chinese_number(&c[2]).filter(|m| (1..=12).contains(m)))
            .and_then(|(y, m)| last_of_month(y, m))
    } else if let Some(c) = QUARTER.captures(text) {
        year_of(None)
            .zip(chinese_number(&c[1]))
            .and_then(|(y, q)| last_of_month(y, q * 3))
    } else if text.contains("上半年") {
        year_of(None).and_then(|y| last_of_month(y, 6))
    } else if let Some(c) = YEARS.captures(text) {
        year_of(None)
            .zip(chinese_number(&c[1]).filter(|n| (1..=20).contains(n)))
            .and_then(|(y, n)| last_of_month(y + i32::try_from(n).ok()? - 1, 12))
    } else if let Some(c) = YEAR_END.captures(text) {
        year_of(c.get(1)).and_then(|y| last_of_month(y, 12))
    } else if text.contains("下半年") || text.contains("全年") {
        year_of(None).and_then(|y| last_of_month(y, 12))
    } else if let Some(c) = YEAR.captures(text) {
        c[1].parse().ok().and_then(|y| last_of_month(y, 12))
    } else {
        None
    };
    let ongoing = date.is_none()
        && ["长期", "持续", "常态化", "常年"]
            .iter()
            .any(|w| text.contains(w));
    Due { date, ongoing }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_read_in_china() {
        // 2026-12-06T10:30:00Z
        assert_eq!(china_time(1_796_553_000), "2026-12-06 18:30 (UTC+8)");
    }

    #[test]
    fn deadlines_as_written_mean_dates() {
        let on = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        for (written, year, date) in [
            ("2025年6月底前", 2025, "2025-06-30"),
            ("12月底前", 2025, "2025-12-31"),
            ("2022年10月底前", 2025, "2022-10-31"),
            ("5月底前动工", 2024, "2024-05-31"),
            ("9月投入使用", 2024, "2024-09-30"),
            ("2月底", 2024, "2024-02-29"),
            ("六月份", 2025, "2025-06-30"),
            ("2025年3月15日前", 0, "2025-03-15"),
            ("10日前", 2025, ""),
            ("上半年", 2025, "2025-06-30"),
            ("下半年", 2025, "2025-12-31"),
            ("三季度", 2025, "2025-09-30"),
            ("年内", 2025, "2025-12-31"),
            ("年底前", 2025, "2025-12-31"),
            ("2026年底前", 2025, "2026-12-31"),
            ("两年内", 2025, "2026-12-31"),
            ("用3-5年时间", 2025, "2029-12-31"),
            ("2027年", 2025, "2027-12-31"),
            ("年内", 0, ""),
            ("2025年内", 2024, "2025-12-31"),
            ("长期坚持", 2025, ""),
        ] {
            assert_eq!(due(written, year).date, on(date), "{written} ({year})");
        }
        assert!(due("长期坚持", 2025).ongoing);
        assert!(due("持续推进", 2025).ongoing);
        assert!(!due("年内", 2025).ongoing);
        assert_eq!(due("", 2025), Due::default());
    }

    #[test]
    fn periods_parse_print_and_read_aloud() {
        for (text, label) in [
            ("2025Q2", "2025年第二季度"),
            ("2025M07", "2025年7月"),
            ("2025H1", "2025年上半年"),
            ("2025H2", "2025年下半年"),
        ] {
            let period = Period::parse(text).expect(text);
            assert_eq!(period.to_string(), text);
            assert_eq!(period.label(), label);
        }
        for bad in [
            "2025Q5",
            "2025M7",
            "2025M13",
            "2025H3",
            "25Q1",
            "2025q1",
            "2025Q",
            "2025Q1x",
            "2025",
            "二〇二五Q1",
            "2025Q１",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }
}
