//! Indicators: which measure a clause is about, so that a target and the outcome stated for it
//! (or the same indicator at another level) can be paired. Families gather the names the genre
//! uses for one measure (经济增长 ≈ 地区生产总值增长); any other indicator is known by its own
//! name, the words before its predicate.

/// Names of one indicator, as work reports write them.
const FAMILIES: &[&[&str]] = &[
    &[
        "地区生产总值",
        "国内生产总值",
        "生产总值",
        "GDP",
        "经济增长",
    ],
    &["城镇新增就业", "新增就业"],
    &["居民消费价格", "CPI"],
    &["可支配收入", "居民收入", "纯收入"],
    &[
        "一般公共预算收入",
        "一般公共预算总收入",
        "公共财政预算收入",
        "财政总收入",
        "财政收入",
        "地方财政",
        "预算收入",
    ],
    &["固定资产投资"],
    &["社会消费品零售总额", "社零"],
    &["规模以上工业增加值", "规上工业增加值", "工业增加值"],
    &["服务业增加值"],
    &["失业率"],
    &["进出口", "外贸出口", "出口总值"],
    &["能耗"],
    &["粮食产量", "粮食总产"],
    &["招商引资", "实际利用外资", "利用外资"],
    &["PM2.5", "细颗粒物"],
    &["研发经费", "R&D"],
    &["二氧化碳排放", "碳排放"],
];

/// The family names, searched in two automata: the Chinese names, and the few Latin ones (GDP,
/// CPI, PM2.5, R&D). Together their shortest name is three bytes and there are more than 32,
/// which makes the search fingerprint one Chinese character in the wide Teddy variant; apart,
/// the Chinese names are fingerprinted on four bytes and the Latin ones by their rare first
/// bytes, and both searches together take about two thirds of the time. No Latin name
/// overlaps a Chinese one (their bytes differ), so the two searches' matches, merged by
/// position, are the one leftmost-longest search's.
struct FamilyWords {
    chinese: aho_corasick::AhoCorasick,
    latin: aho_corasick::AhoCorasick,
    /// The family of each of `chinese`'s patterns.
    chinese_family: Vec<usize>,
    /// The family of each of `latin`'s patterns.
    latin_family: Vec<usize>,
}

static FAMILY_WORDS: std::sync::LazyLock<FamilyWords> = std::sync::LazyLock::new(|| {
    let (mut chinese, mut latin) = (Vec::new(), Vec::new());
    let (mut chinese_family, mut latin_family) = (Vec::new(), Vec::new());
    for (i, f) in FAMILIES.iter().enumerate() {
        for w in f.iter() {
            if w.is_ascii() {
                latin.push(*w);
                latin_family.push(i);
            } else {
                chinese.push(*w);
                chinese_family.push(i);
            }
        }
    }
    let build = |words: Vec<&str>| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(words)
            .expect("family words")
    };
    FamilyWords {
        chinese: build(chinese),
        latin: build(latin),
        chinese_family,
        latin_family,
    }
});

/// A family name found: byte range and family.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct FamilyMatch {
    start: usize,
    end: usize,
    family: usize,
}

/// The family names in a text, leftmost-longest and in order.
fn family_matches(text: &str) -> impl Iterator<Item = FamilyMatch> + '_ {
    let w = &*FAMILY_WORDS;
    let of = |families: &'static [usize]| {
        move |m: aho_corasick::Match| {
            families
                .get(m.pattern().as_usize())
                .map(|&family| FamilyMatch {
                    start: m.start(),
                    end: m.end(),
                    family,
                })
        }
    };
    crate::text::merge(
        w.chinese.find_iter(text).filter_map(of(&w.chinese_family)),
        w.latin.find_iter(text).filter_map(of(&w.latin_family)),
    )
}

fn energy() -> Option<usize> {
    FAMILIES.iter().position(|f| f.contains(&"能耗"))
}

/// The family whose name comes first: "城乡居民收入增长与经济增长同步" is about income;
/// "单位地区生产总值能耗" measures energy, not output.
pub fn family_of(s: &str) -> Option<usize> {
    if crate::text::has(s, "能耗") {
        return energy();
    }
    family_matches(s).next().map(|m| m.family)
}

/// The family of each clause, from one search over the whole span (`family_matches`) rather
/// than one per (short) clause.
pub fn families_of_clauses(text: &str, clauses: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut out = vec![None; clauses.len()];
    let (Some(first), Some(last)) = (clauses.first(), clauses.last()) else {
        return out;
    };
    let span = text.get(first.0..last.1).unwrap_or("");
    let mut is_energy = vec![false; clauses.len()];
    let mut k = 0usize;
    for m in family_matches(span) {
        let at = first.0 + m.start;
        while clauses.get(k).is_some_and(|c| c.1 <= at) {
            k += 1;
        }
        let Some(c) = clauses.get(k) else { break };
        if at < c.0 || first.0 + m.end > c.1 {
            continue;
        }
        if let Some(slot) = out.get_mut(k)
            && slot.is_none()
        {
            *slot = Some(m.family);
        }
        if span.get(m.start..m.end) == Some("能耗")
            && let Some(e) = is_energy.get_mut(k)
        {
            *e = true;
        }
    }
    for (i, e) in is_energy.iter().enumerate() {
        if *e && let Some(slot) = out.get_mut(i) {
            *slot = energy();
        }
    }
    out
}

/// Words that end an indicator's name: its predicate or its figure begins.
const PREDICATE_STARTS: &[&str] = &[
    "分别",
    "增长",
    "增速",
    "下降",
    "达到",
    "达",
    "控制",
    "完成",
    "实现",
    "保持",
    "稳定",
    "提高",
    "降低",
    "降至",
    "涨幅",
    "上涨",
    "持平",
    "平均",
    "为",
    "在",
    "突破",
    "超过",
    "与",
    "和经济",
    "比上年",
    "同比",
    "可比",
    "年均",
    "占",
];

/// The indicator's own name: the clause up to its predicate or first figure, without the
/// scope words in front (全市, 全年, 预计…). Empty when the clause names no indicator.
static PREDICATES: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(PREDICATE_STARTS).expect("predicate words")
    });

pub fn name_of(clause: &str) -> &str {
    let mut s = clause.trim();
    for lead in [
        "预计",
        "全年",
        "上半年",
        "全市",
        "全省",
        "全区",
        "全县",
        "全国",
        "实现",
        "完成",
        "其中",
        "今年",
    ] {
        s = crate::text::strip_prefix(s, lead).unwrap_or(s);
    }
    let mut end = PREDICATES.find(s).map_or(s.len(), |m| m.start());
    if let Some(i) = s.find(|c: char| c.is_ascii_digit())
        && i < end
    {
        end = i;
    }
    s.get(..end).unwrap_or("").trim()
}

/// Words that make a name an indicator rather than an action.
const INDICATOR_WORDS: &[&str] = &[
    "总值",
    "收入",
    "投资",
    "增加值",
    "失业率",
    "就业",
    "价格",
    "零售",
    "进出口",
    "出口",
    "能耗",
    "排放",
    "浓度",
    "比重",
    "比例",
    "产量",
    "总额",
    "支出",
    "总量",
    "指数",
    "增速",
    "产值",
    "利润",
    "税收",
    "人口",
    "覆盖率",
    "达标率",
    "指标",
];

/// Does the clause name an indicator (a family, or a name ending like one)?
pub fn has_indicator(clause: &str) -> bool {
    family_of(clause).is_some() || {
        let n = name_of(clause);
        INDICATOR_WORDS.iter().any(|w| crate::text::has(n, w))
    }
}

/// Do two clauses speak of the same indicator?
pub fn same_indicator(a: &str, b: &str) -> bool {
    match (family_of(a), family_of(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => same_name(name_of(a), name_of(b)),
        _ => false,
    }
}

/// Are two indicator names one indicator ("一产、二产、三产增加值")?
pub fn same_name(na: &str, nb: &str) -> bool {
    na.chars().count() >= 3
        && nb.chars().count() >= 3
        && (na == nb || nb.ends_with(na) || na.ends_with(nb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_families() {
        assert_eq!(
            name_of("一产、二产、三产增加值分别增长5%左右"),
            "一产、二产、三产增加值"
        );
        assert_eq!(name_of("全年实现地区生产总值5696亿元"), "地区生产总值");
        assert!(same_indicator(
            "一产、二产、三产增加值分别增长6%",
            "一产、二产、三产增加值分别增长5%左右"
        ));
        assert!(same_indicator("经济增长6%左右", "地区生产总值增长5.8%"));
        assert!(!same_indicator(
            "固定资产投资增长6%",
            "社会消费品零售总额增长2.1%"
        ));
        assert_eq!(family_of("单位地区生产总值能耗下降3%"), family_of("能耗"));
    }

    #[test]
    fn latin_and_chinese_names_in_text_order() {
        // the two searches' matches are merged by position: the first name decides
        let (gdp, income) = (family_of("地区生产总值"), family_of("居民收入"));
        assert!(gdp.is_some() && income.is_some() && gdp != income);
        assert_eq!(family_of("GDP增长与居民收入增长同步"), gdp);
        assert_eq!(family_of("居民收入增长与GDP增长同步"), income);
        let t = "居民收入增长8%,GDP增长6%,PM2.5浓度下降";
        let (a, b) = (t.find(',').unwrap_or(0), t.rfind(',').unwrap_or(0));
        let clauses = [
            (0, a),
            (a + ','.len_utf8(), b),
            (b + ','.len_utf8(), t.len()),
        ];
        assert_eq!(
            families_of_clauses(t, &clauses),
            vec![income, gdp, family_of("细颗粒物")]
        );
    }
}
