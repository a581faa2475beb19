//! The calendar the services share: reporting periods ("2025Q2", "2025M07", "2025H1") and what
//! day it is where the governments are (China Standard Time, whatever the server's zone).

use std::fmt;

use chrono::NaiveDate;

/// Today in China Standard Time (UTC+8, no daylight saving), whatever the server's clock zone.
pub fn today_in_china() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
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

#[cfg(test)]
mod tests {
    use super::*;

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
