//! Tables in every form a page or file gives them: cells joined by " | " (HTML and DOCX rows),
//! tabs or runs of spaces on one line, single spaces with letter-spaced headers (`单 位`), and
//! tables flattened one cell per line (with or without `|` row separators). The header names
//! the columns; each column gets a role (序号, task, lead / responsible / cooperating units,
//! deadline, measure word, target, actual, …), and the cells of every row are aligned to the
//! columns by what they look like, so a merged (rowspan) or empty cell shifts nothing and a
//! sub-row under a numbered row is recognised as one.

use super::lines::Line;
use super::markers::{self, Style};
use crate::interpret::{quantity, units};
use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    No,
    Task,
    /// a second text column (建设内容): targets are read from it too
    Detail,
    Lead,
    Responsible,
    Co,
    /// 备注: units when its cells name bodies
    Remark,
    /// 责任领导, 责任人: people, never units
    Person,
    Deadline,
    /// 单位 on its own: the measure word of the row's figures
    Measure,
    Target,
    Actual,
    /// 占年任务之比: derived, not read
    Ratio,
    /// 建设地点, 建设时间, 类别 …
    Other,
}

impl Role {
    fn multi(self) -> bool {
        matches!(
            self,
            Role::Task
                | Role::Detail
                | Role::Lead
                | Role::Responsible
                | Role::Co
                | Role::Remark
                | Role::Person
        )
    }

    pub fn is_unit(self) -> bool {
        matches!(
            self,
            Role::Lead | Role::Responsible | Role::Co | Role::Remark
        )
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub role: Role,
    pub header: String,
    /// A measure word in the header, `年度投资金额(万元)`: the unit and its factor.
    pub unit: Option<(String, f64)>,
}

/// A cell: byte range in the cleaned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub start: usize,
    pub end: usize,
}

impl Cell {
    pub fn text<'a>(&self, t: &'a str) -> &'a str {
        t.get(self.start..self.end).unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The 序号 cell; None for a sub-row (it repeats the number above).
    pub no: Option<String>,
    /// (column, cell), in order.
    pub cells: Vec<(usize, Cell)>,
    /// Where the row's text runs: from its task cell to the end of the task's line.
    pub text: Cell,
    /// The row's cells fewer than the header's: merged cells from the row above.
    pub merged: bool,
    /// A heading row above it inside the table ("一、主要预期目标").
    pub section: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Line indices the table occupies (header included).
    pub first_line: usize,
    pub end_line: usize,
}

/// What a cell looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Dash,
    /// a small integer: a 序号 or a bare figure
    Int,
    /// 2024: a year (建设时间), not a figure
    Year,
    Num,
    Pct,
    Date,
    Measure,
    Body,
    Person,
    Text,
}

/// Header words by the role they give, in the order a cell's words decide its role (a
/// "牵头单位" column is a lead column although it holds "单位").
const HEADER_WORDS: &[(Group, &[&str])] = &[
    (Group::No, &["序号", "编号"]),
    (Group::Person, &["领导", "责任人", "联系人", "分管"]),
    (
        Group::Co,
        &["配合", "协办", "协助", "协同", "参与单位", "共同责任"],
    ),
    (Group::Lead, &["牵头", "主办", "主责"]),
    (
        Group::Responsible,
        &[
            "责任单位",
            "责任部门",
            "实施单位",
            "承办单位",
            "责任主体",
            "实施主体",
            "主体单位",
            "责任科室",
        ],
    ),
    (
        Group::Deadline,
        &[
            "时限",
            "完成时间",
            "完成期限",
            "时间节点",
            "截止时间",
            "完成时间节点",
        ],
    ),
    (Group::Remark, &["备注", "说明"]),
    (Group::Ratio, &["之比", "完成率", "比例", "百分比"]),
    // "占年度计划": a share of the plan
    (Group::OfPlan, &["计划", "任务", "目标"]),
    (
        Group::Actual,
        &[
            "已完成",
            "完成数",
            "完成情况",
            "实际完成",
            "进展",
            "进度",
            "完成值",
            "实绩",
        ],
    ),
    (
        Group::Task,
        &[
            "任务",
            "事项",
            "内容",
            "实事",
            "项目",
            "指标",
            "措施",
            "工作",
            "名称",
            "目标任务",
        ],
    ),
    // "工作目标" names the target, not the task
    (Group::NotTask, &["工作目标", "目标值"]),
    (
        Group::Target,
        &["目标", "计划", "金额", "投资", "资金", "规模", "数量"],
    ),
    (
        Group::Other,
        &[
            "地点", "地址", "时间", "年限", "类别", "类型", "级别", "性质", "区域", "范围",
        ],
    ),
];

#[derive(Clone, Copy)]
enum Group {
    No,
    Person,
    Co,
    Lead,
    Responsible,
    Deadline,
    Remark,
    Ratio,
    OfPlan,
    Actual,
    Task,
    NotTask,
    Target,
    Other,
}

/// All header words in one automaton; each word with the groups it belongs to.
static HEADER_AC: LazyLock<(AhoCorasick, Vec<u16>)> = LazyLock::new(|| {
    let mut words: Vec<(&str, u16)> = Vec::new();
    for (g, ws) in HEADER_WORDS {
        for w in *ws {
            match words.iter_mut().find(|(x, _)| x == w) {
                Some((_, mask)) => *mask |= 1 << *g as u16,
                None => words.push((w, 1 << *g as u16)),
            }
        }
    }
    let ac = AhoCorasick::new(words.iter().map(|(w, _)| *w)).expect("header words");
    (ac, words.into_iter().map(|(_, m)| m).collect())
});

/// The longest cell, in bytes, that can name a column: sixteen characters and a few spaces.
const HEADER_CELL_MAX: usize = 16 * 4 + 8;

/// The role a header word gives its column; None when the cell is not a header word.
fn header_role(cell: &str) -> Option<Role> {
    if cell.len() > HEADER_CELL_MAX {
        return None;
    }
    let c: std::borrow::Cow<'_, str> = if cell.contains(char::is_whitespace) {
        cell.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .into()
    } else {
        cell.into()
    };
    let c = c.as_ref();
    let n = c.chars().count();
    // a caption ("2016年民生实事目标任务分解表") or a heading ("一、主要工作任务") is not a column
    if n == 0
        || n > 16
        || ["表", "清单", "方案", "通知", "一览"]
            .iter()
            .any(|e| c.ends_with(e))
        || markers::parse(c).is_some()
    {
        return None;
    }
    let (ac, masks) = &*HEADER_AC;
    let found = ac
        .find_overlapping_iter(c)
        .filter_map(|m| masks.get(m.pattern().as_usize()))
        .fold(0u16, |a, m| a | m);
    let has = |g: Group| found & (1 << g as u16) != 0;
    Some(if has(Group::No) || c == "序" || c == "No" || c == "NO" {
        Role::No
    } else if has(Group::Person) {
        Role::Person
    } else if has(Group::Co) {
        Role::Co
    } else if has(Group::Lead) {
        Role::Lead
    } else if has(Group::Responsible) {
        Role::Responsible
    } else if c == "单位" || c == "计量单位" {
        Role::Measure
    } else if has(Group::Deadline) {
        Role::Deadline
    } else if has(Group::Remark) {
        Role::Remark
    } else if has(Group::Ratio) || c.starts_with('占') && has(Group::OfPlan) {
        Role::Ratio
    } else if has(Group::Actual) {
        Role::Actual
    } else if has(Group::Task) && !has(Group::NotTask) {
        Role::Task
    } else if has(Group::Target) {
        Role::Target
    } else if has(Group::Other) {
        Role::Other
    } else {
        return None;
    })
}

/// A measure word inside a header: `年度投资金额(万元)`.
fn header_unit(cell: &str) -> Option<(String, f64)> {
    let open = cell.rfind('(')?;
    let inner = cell.get(open + 1..)?.trim_end_matches(')').trim();
    measure(inner)
}

/// A measure word with its factor: 万人 → (人, 1e4), 公里 → (公里, 1), 元/月/人 → (元/月/人, 1).
fn measure(s: &str) -> Option<(String, f64)> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 8 {
        return None;
    }
    let (factor, rest) = if let Some(r) = s.strip_prefix("万亿") {
        (1e12, r)
    } else if let Some(r) = s.strip_prefix('万') {
        (1e4, r)
    } else if let Some(r) = s.strip_prefix('亿') {
        (1e8, r)
    } else {
        (1.0, s)
    };
    let base = rest.split('/').next().unwrap_or(rest);
    quantity::is_measure_word(base).then(|| (rest.to_string(), factor))
}

fn kind(cell: &str) -> Kind {
    let c = cell.trim();
    if c.is_empty() {
        return Kind::Empty;
    }
    if matches!(c, "-" | "—" | "——" | "/" | "无" | "－" | "--" | "\\") {
        return Kind::Dash;
    }
    let chars = c.chars().count();
    if c.bytes().all(|b| b.is_ascii_digit()) {
        return match c.len() {
            0..=3 => Kind::Int,
            4 if (c.starts_with("19") || c.starts_with("20")) => Kind::Year,
            _ => Kind::Num,
        };
    }
    // a percentage's unit is its "%": a cell without one is read for figures no further here
    if chars <= 24
        && c.contains('%')
        && let Some(f) = quantity::find_quantities(c).first()
        && f.start == 0
        && (f.end == c.len() || c.get(f.end..).is_some_and(|r| r.starts_with('(')))
        && f.quantity.unit == "%"
    {
        return Kind::Pct;
    }
    if c.starts_with(|ch: char| ch.is_ascii_digit()) && c.contains('%') && chars <= 40 {
        let lead: String = c
            .chars()
            .take_while(|ch| ch.is_ascii_digit() || *ch == '.')
            .collect();
        if c.get(lead.len()..).is_some_and(|r| r.starts_with('%')) {
            return Kind::Pct;
        }
    }
    if chars <= 14 && is_number_cell(c) {
        return Kind::Num;
    }
    if measure(c).is_some() {
        return Kind::Measure;
    }
    if deadline_like(c) {
        return Kind::Date;
    }
    // a task that happens to end with a body's name (建成县残疾人综合服务中心。) is a task
    const TASK_VERBS: &[&str] = &[
        "建成", "建设", "新建", "完成", "实施", "开工", "推进", "启动", "迁建", "改造", "加快",
        "开展", "打造", "提升", "创建", "组建", "成立", "设立", "筹建",
    ];
    let names = units::split_units(c);
    if !names.is_empty()
        && units::bodies(&names)
        && !c.ends_with('。')
        && !TASK_VERBS.iter().any(|v| c.starts_with(v))
    {
        return Kind::Body;
    }
    if (2..=3).contains(&chars) && c.chars().all(quantity::is_han) {
        return Kind::Person;
    }
    Kind::Text
}

/// "5.2", "不低于60元", "3700元", "1.4万", "≥95%": a figure with at most a comparator and unit.
fn is_number_cell(c: &str) -> bool {
    let t = c
        .trim_start_matches(|ch: char| !ch.is_ascii_digit())
        .trim_end();
    let lead = c.len() - t.len();
    // what precedes the number may only be a comparator word
    let before = c.get(..lead).unwrap_or("");
    if !before.is_empty()
        && ![
            "不低于",
            "不少于",
            "不超过",
            "不高于",
            "约",
            "≥",
            "≤",
            ">",
            "<",
            "达到",
            "超过",
        ]
        .contains(&before)
    {
        return false;
    }
    let digits = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if digits == 0 {
        return false;
    }
    let rest = t.get(digits..).unwrap_or("");
    let rest = rest
        .trim_end_matches("以上")
        .trim_end_matches("以内")
        .trim_end_matches("左右");
    rest.is_empty() || rest == "%" || measure(rest).is_some()
}

/// A time limit (2021年12月, 10月底前, 长期, 9月投入使用) rather than a body or a task.
pub fn deadline_like(cell: &str) -> bool {
    let n = cell.chars().count();
    n <= 20
        && ["年", "月", "底", "前", "长期", "持续", "季度", "日", "常态"]
            .iter()
            .any(|k| crate::text::has(cell, k))
        && !cell.contains(['局', '委', '办', '厅', '。', ','])
        && (cell.contains(|c: char| c.is_ascii_digit())
            || [
                "长期",
                "持续",
                "年底",
                "年内",
                "上半年",
                "下半年",
                "季度",
                "常态",
            ]
            .iter()
            .any(|k| crate::text::has(cell, k)))
}

fn score(k: Kind, r: Role) -> f64 {
    use Kind as K;
    use Role as R;
    match r {
        R::No => match k {
            K::Int => 4.0,
            _ => -6.0,
        },
        R::Task => match k {
            K::Text => 2.0,
            K::Empty => 0.0,
            K::Body | K::Person => 0.0,
            K::Date | K::Dash => -1.0,
            _ => -2.0,
        },
        R::Detail => match k {
            K::Text => 1.5,
            K::Empty | K::Dash => 0.3,
            K::Body | K::Person => 0.0,
            _ => -1.5,
        },
        R::Lead | R::Responsible | R::Co => match k {
            K::Body => 3.0,
            K::Dash => 1.0,
            K::Empty => 0.5,
            K::Person => -0.5,
            K::Text => -2.0,
            _ => -3.0,
        },
        R::Remark => match k {
            K::Body => 2.0,
            K::Text | K::Dash | K::Empty | K::Person => 0.5,
            _ => 0.0,
        },
        R::Person => match k {
            K::Person => 2.0,
            K::Dash | K::Empty => 0.5,
            K::Text => 0.0,
            _ => -1.5,
        },
        R::Deadline => match k {
            K::Date => 3.0,
            K::Year => 1.5,
            K::Dash | K::Empty => 0.5,
            K::Text => -0.5,
            _ => -2.0,
        },
        R::Measure => match k {
            K::Measure => 3.0,
            K::Dash | K::Empty => 0.5,
            _ => -3.0,
        },
        R::Target => match k {
            K::Num | K::Int => 3.0,
            K::Year => -1.0,
            K::Pct => 1.5,
            K::Dash => 1.0,
            K::Empty => 0.5,
            K::Text => -0.5,
            _ => -2.0,
        },
        R::Actual => match k {
            K::Num | K::Int => 3.0,
            K::Year => -1.0,
            K::Pct => 2.5,
            K::Dash => 1.0,
            K::Empty => 0.5,
            K::Text => 0.0,
            _ => -1.5,
        },
        R::Ratio => match k {
            K::Pct => 2.0,
            K::Dash => 1.0,
            K::Num | K::Int => 0.5,
            K::Empty | K::Text => 0.0,
            _ => -1.0,
        },
        R::Other => match k {
            K::Text | K::Year => 0.8,
            _ => 0.3,
        },
    }
}

const SKIP: f64 = 0.5;
const WRAP: f64 = 2.5;
const DROP: f64 = 2.5;

/// Aligns a row's cells to the columns, in order. Returns per cell (sub-row, column), or None
/// for a cell that fits nowhere. A column that takes several bodies or text cells may take
/// more than one; after the last filled column the cells may start a sub-row at the task.
fn align(kinds: &[Kind], cols: &[Column]) -> Vec<Option<(usize, usize)>> {
    let k = cols.len();
    let m = kinds.len();
    let task = cols.iter().position(|c| c.role == Role::Task);
    // state: after cell i, last column j (k = before any), sub-row count s (≤ 3)
    const SUBS: usize = 4;
    let idx = |j: usize, s: usize| j * SUBS + s;
    let states = (k + 1) * SUBS;
    // one row of states per cell, kept in one block: rows are read and written for every
    // state and column
    let mut best = vec![f64::NEG_INFINITY; (m + 1) * states];
    let mut back: Vec<(usize, Option<usize>)> = vec![(usize::MAX, None); (m + 1) * states];
    if let Some(b) = best.get_mut(idx(k, 0)) {
        *b = 0.0;
    }
    // what skipping columns costs, from a running count of the columns that are not units: a
    // row asks it for every state and column
    let mut not_units = Vec::with_capacity(k + 1);
    not_units.push(0usize);
    for c in cols {
        not_units.push(not_units.last().copied().unwrap_or(0) + usize::from(!c.role.is_unit()));
    }
    let skip_cost = |from: usize, to: usize| match (not_units.get(from), not_units.get(to)) {
        (Some(a), Some(b)) if from <= to => (b - a) as f64 * SKIP,
        _ => 0.0,
    };
    let mut fit = vec![0.0f64; k];
    for i in 0..m {
        let Some(&kd) = kinds.get(i) else { break };
        // how well this cell fits each column, the same for every state
        for ((slot, c), nj) in fit.iter_mut().zip(cols).zip(0..) {
            let v = score(kd, c.role);
            // a unit column left empty is a merged cell: skipping it costs nothing, and of two
            // unit columns the later one takes a lone cell
            *slot = if c.role.is_unit() {
                v + 0.01 * f64::from(nj)
            } else {
                v
            };
        }
        let (done, ahead) = best.split_at_mut((i + 1) * states);
        let row = done.get(i * states..).unwrap_or_default();
        let next = ahead.get_mut(..states).unwrap_or_default();
        let next_back = back
            .get_mut((i + 1) * states..(i + 2) * states)
            .unwrap_or_default();
        for (st, &cur) in row.iter().enumerate() {
            if cur == f64::NEG_INFINITY {
                continue;
            }
            let (j, s) = (st / SUBS, st % SUBS);
            let mut relax = |nst: usize, v: f64, col: Option<usize>| {
                if let (Some(b), Some(w)) = (next.get_mut(nst), next_back.get_mut(nst))
                    && v > *b
                {
                    *b = v;
                    *w = (st, col);
                }
            };
            // drop the cell
            relax(st, cur - DROP, None);
            for (nj, (c, &v)) in cols.iter().zip(&fit).enumerate() {
                if j == k {
                    relax(idx(nj, s), cur + v - skip_cost(0, nj), Some(nj));
                } else if nj == j {
                    if c.role.multi() {
                        relax(idx(nj, s), cur + v - 0.4, Some(nj));
                    }
                } else if nj > j {
                    relax(idx(nj, s), cur + v - skip_cost(j + 1, nj), Some(nj));
                } else if Some(nj) == task && s + 1 < SUBS && kd == Kind::Text {
                    relax(idx(nj, s + 1), cur + v - WRAP, Some(nj));
                }
            }
        }
    }
    let last = best.get(m * states..).unwrap_or_default();
    if last.is_empty() {
        return vec![None; m];
    }
    let mut st = (0..states)
        .max_by(|a, b| last[*a].total_cmp(&last[*b]))
        .unwrap_or(0);
    let mut out = vec![None; m];
    for i in (1..=m).rev() {
        let Some(&(prev, col)) = back.get(i * states + st) else {
            break;
        };
        if let (Some(c), Some(slot)) = (col, out.get_mut(i - 1)) {
            *slot = Some((st % SUBS, c));
        }
        if prev == usize::MAX {
            break;
        }
        st = prev;
    }
    out
}

/// Splits a header or row line into cells: " | ", tabs, runs of two or more spaces, else
/// single spaces (then letter-spaced header words `单 位` are joined).
fn split_line(text: &str, line: Line, sep: Sep) -> Vec<Cell> {
    let s = line.text(text);
    let mut out = Vec::new();
    let mut push = |a: usize, b: usize| {
        let piece = s.get(a..b).unwrap_or("");
        let lead = piece.len() - piece.trim_start().len();
        let t = piece.trim();
        out.push(Cell {
            start: line.start + a + lead,
            end: line.start + a + lead + t.len(),
        });
    };
    match sep {
        Sep::Pipe => {
            let mut a = 0;
            for (i, _) in s.match_indices('|') {
                push(a, i);
                a = i + 1;
            }
            push(a, s.len());
            // the outer pipes of "| a | b |" make empty first and last cells
            if out.first().is_some_and(|c| c.start == c.end) {
                out.remove(0);
            }
            if out.last().is_some_and(|c| c.start == c.end) {
                out.pop();
            }
        }
        Sep::Spaces(min) => {
            let mut a = 0;
            let mut run: Option<usize> = None;
            for (i, c) in s.char_indices() {
                if c == ' ' || c == '\t' {
                    run.get_or_insert(i);
                    continue;
                }
                if let Some(r) = run.take()
                    && (i - r >= min || s.get(r..i).is_some_and(|g| g.contains('\t')))
                {
                    push(a, r);
                    a = i;
                }
            }
            push(a, s.len());
            out.retain(|c| c.start < c.end);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Pipe,
    Spaces(usize),
}

/// Joins letter-spaced single characters of a header (`单 位`, `备  注`) into one cell.
fn join_letter_spaced(text: &str, cells: Vec<Cell>) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    let mut pending_single = false;
    for c in cells {
        let single = c.text(text).chars().count() == 1;
        match out.last_mut() {
            Some(last) if single && pending_single => {
                last.end = c.end;
                pending_single = false;
            }
            _ => {
                out.push(c);
                pending_single = single;
            }
        }
    }
    out
}

fn columns_of(text: &str, cells: &[Cell]) -> Option<Vec<Column>> {
    let mut cols = Vec::with_capacity(cells.len());
    let mut known = 0;
    for c in cells {
        let h = c.text(text);
        let role = header_role(h);
        if role.is_some() {
            known += 1;
        }
        cols.push(Column {
            role: role.unwrap_or(Role::Other),
            header: h.to_string(),
            unit: header_unit(h),
        });
    }
    // the first task-like column is the task; later ones are details
    let mut seen_task = false;
    for c in cols.iter_mut() {
        if c.role == Role::Task {
            if seen_task {
                c.role = Role::Detail;
            }
            seen_task = true;
        }
        if c.role == Role::Detail && c.unit.is_some() {
            c.role = Role::Target;
        }
    }
    let has = |r: Role| cols.iter().any(|c| c.role == r);
    let useful = cols.iter().any(|c| {
        c.role.is_unit()
            || matches!(c.role, Role::Deadline | Role::Target | Role::Actual)
            || c.unit.is_some()
    });
    (cols.len() >= 3 && known * 3 >= cols.len() * 2 && known >= 3 && has(Role::Task) && useful)
        .then_some(cols)
}

/// Does this line end a table? An attachment heading, a section heading, or a numbered line.
fn ends_table(s: &str) -> bool {
    s.starts_with("附件")
        || markers::parse(s).is_some_and(|m| {
            matches!(
                m.style,
                Style::CnComma | Style::CnParen | Style::Part | Style::Article
            ) && !m.decimal_like
        })
}

/// Words one of a header's column names holds.
static HEADER_HINTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    crate::text::word_search([
        "序", "编号", "单位", "任务", "项目", "事项", "指标", "内容", "实事", "时限",
    ])
});

/// Finds the tables among the lines.
pub fn find(text: &str, lines: &[Line]) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut i = 0usize;
    while i < lines.len() {
        let Some(line) = lines.get(i).copied() else {
            break;
        };
        let s = line.text(text);
        // a header is a short line of column names: one of them per line, or several split
        // by pipes, tabs or spaces
        let short = !s.is_empty() && s.len() <= 48;
        // ASCII separators: a byte search, not a character-by-character decode
        let split = s.len() <= 600 && memchr::memchr3(b'|', b'\t', b' ', s.as_bytes()).is_some();
        let named = (short || split) && HEADER_HINTS.is_match(s);
        if named
            && split
            && let Some(t) = delimited(text, lines, i)
        {
            i = t.end_line;
            tables.push(t);
            continue;
        }
        if named && let Some(t) = one_per_line(text, lines, i) {
            i = t.end_line;
            tables.push(t);
            continue;
        }
        i += 1;
    }
    tables
}

fn header_sep(s: &str) -> Option<Sep> {
    if s.contains('|') {
        Some(Sep::Pipe)
    } else if s.contains('\t') || crate::text::has(s, "  ") {
        Some(Sep::Spaces(2))
    } else if s.contains(' ') {
        Some(Sep::Spaces(1))
    } else {
        None
    }
}

fn delimited(text: &str, lines: &[Line], at: usize) -> Option<Table> {
    let line = *lines.get(at)?;
    let s = line.text(text);
    let mut sep = header_sep(s)?;
    let mut cells = split_line(text, line, sep);
    if sep == Sep::Spaces(2) && cells.len() < 3 {
        sep = Sep::Spaces(1);
        cells = split_line(text, line, sep);
    }
    if sep == Sep::Spaces(1) || sep == Sep::Spaces(2) {
        cells = join_letter_spaced(text, cells);
    }
    let columns = columns_of(text, &cells)?;
    if sep == Sep::Spaces(1) && (columns.len() < 4 || !columns.iter().any(|c| c.role == Role::No)) {
        return None;
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut j = at + 1;
    let mut blanks = 0;
    let mut section: Option<String> = None;
    while let Some(l) = lines.get(j).copied() {
        let s = l.text(text);
        if s.is_empty() {
            blanks += 1;
            if blanks >= 3 {
                break;
            }
            j += 1;
            continue;
        }
        blanks = 0;
        if ends_table(s) {
            // a heading row inside the table ("一、主要预期目标") when rows go on after it
            let next = lines
                .get(j + 1..)
                .and_then(|r| r.iter().find(|l| !l.is_blank()).copied());
            let rows_follow = next.is_some_and(|n| {
                let cells = split_line(text, n, sep);
                cells.len() >= 3 && !ends_table(n.text(text))
            });
            if rows_follow && !s.starts_with("附件") {
                section = Some(s.to_string());
                j += 1;
                continue;
            }
            break;
        }
        let row_sep = match sep {
            Sep::Pipe if !s.contains('|') => None,
            Sep::Pipe => Some(Sep::Pipe),
            Sep::Spaces(n) => Some(if crate::text::has(s, "  ") || s.contains('\t') {
                Sep::Spaces(2.min(n.max(1)))
            } else {
                Sep::Spaces(1)
            }),
        };
        let cells = row_sep.map(|r| split_line(text, l, r)).unwrap_or_default();
        if cells.len() >= 2 {
            let first = rows.len();
            rows.extend(build_rows(
                text,
                &columns,
                &cells,
                sep == Sep::Pipe,
                false,
                row_sep == Some(Sep::Spaces(1)),
            ));
            for r in rows.iter_mut().skip(first) {
                r.section.clone_from(&section);
            }
            j += 1;
            continue;
        }
        // a wrapped cell: a short line under the row continues its task
        if let Some(last) = rows.last_mut()
            && crate::text::chars_at_most(s, 60)
            && markers::parse(s).is_none()
        {
            last.cells.push((
                columns
                    .iter()
                    .position(|c| c.role == Role::Task)
                    .unwrap_or(0),
                Cell {
                    start: l.start,
                    end: l.end,
                },
            ));
            j += 1;
            continue;
        }
        break;
    }
    (!rows.is_empty()).then_some(Table {
        columns,
        rows,
        first_line: at,
        end_line: j,
    })
}

/// Strips a flattened pipe table's cell marks: "序號 |" → "序號".
fn cell_of(text: &str, l: Line) -> Cell {
    let s = l.text(text);
    let t = s.trim_end_matches('|').trim_end();
    let u = t.trim_start_matches('|').trim_start();
    let start = l.start + (t.len() - u.len());
    Cell {
        start,
        end: start + u.len(),
    }
}

fn is_row_separator(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c == '|' || c == ' ')
}

const MAX_COLUMNS: usize = 24;

fn one_per_line(text: &str, lines: &[Line], at: usize) -> Option<Table> {
    // a header needs three column names in a row, and no name is longer than HEADER_CELL_MAX:
    // a label line split from its item ("区级牵头单位:区经科局)") is followed by the next item,
    // and measuring lengths costs a fraction of reading words
    let names_ahead = lines
        .get(at..)
        .unwrap_or_default()
        .iter()
        .map(|&l| (l, l.text(text)))
        .filter(|(_, s)| !s.is_empty() && !is_row_separator(s))
        .take(3)
        .take_while(|&(l, _)| cell_of(text, l).text(text).len() <= HEADER_CELL_MAX)
        .count();
    if names_ahead < 3 {
        return None;
    }
    let mut header = Vec::new();
    let mut j = at;
    while let Some(l) = lines.get(j).copied() {
        let s = l.text(text);
        if s.is_empty() || is_row_separator(s) {
            j += 1;
            continue;
        }
        let c = cell_of(text, l);
        let h = c.text(text);
        if header_role(h).is_none() || h.contains(' ') && header_role(&h.replace(' ', "")).is_none()
        {
            break;
        }
        header.push(c);
        // no table has this many columns: a run of column-name lines is not one header,
        // and scanning it again from every line would cost the square of its length
        if header.len() > MAX_COLUMNS {
            return None;
        }
        j += 1;
    }
    if header.len() < 3 {
        return None;
    }
    // cells written "text |", one per line: a line holding only the separator is an empty
    // cell, not the end of a row
    let piped = header
        .iter()
        .filter(|c| {
            text.get(c.end..)
                .is_some_and(|t| t.trim_start_matches(' ').starts_with('|'))
        })
        .count()
        * 2
        > header.len();
    let columns = columns_of(text, &header)?;
    let has_no = columns.first().is_some_and(|c| c.role == Role::No);
    let ncols = columns.len();
    let mut rows: Vec<Row> = Vec::new();
    let mut cur: Vec<Cell> = Vec::new();
    let mut expect: Option<u32> = None;
    let mut end = j;
    let flush = |cur: &mut Vec<Cell>, rows: &mut Vec<Row>| {
        if !cur.is_empty() {
            rows.extend(build_rows(text, &columns, cur, false, true, false));
            cur.clear();
        }
    };
    while let Some(l) = lines.get(j).copied() {
        let s = l.text(text);
        if s.is_empty() {
            j += 1;
            continue;
        }
        if piped && s.trim() == "|" && !cur.is_empty() {
            cur.push(Cell {
                start: l.start,
                end: l.start,
            });
            j += 1;
            end = j;
            continue;
        }
        if is_row_separator(s) {
            flush(&mut cur, &mut rows);
            j += 1;
            end = j;
            continue;
        }
        if ends_table(s) || crate::text::chars_at_least(s, 401) {
            break;
        }
        let c = cell_of(text, l);
        let ct = c.text(text);
        let n: Option<u32> = ct
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| ct.parse().ok())
            .flatten();
        if has_no
            && let Some(n) = n
            && expect.is_none_or(|e| n == e)
            && ct.len() <= 3
        {
            flush(&mut cur, &mut rows);
            expect = Some(n + 1);
        }
        if cur.len() > ncols * 3 {
            break;
        }
        cur.push(c);
        j += 1;
        end = j;
    }
    flush(&mut cur, &mut rows);
    let mut table = Table {
        columns,
        rows,
        first_line: at,
        end_line: end,
    };
    numbers_are_targets(text, &mut table);
    (!table.rows.is_empty()).then_some(table)
}

/// A detail column ("目标任务") whose cells are mostly figures (1300人, 8950) holds the
/// targets, whatever its header suggests.
fn numbers_are_targets(text: &str, table: &mut Table) {
    for (col, column) in table.columns.iter_mut().enumerate() {
        if column.role != Role::Detail {
            continue;
        }
        let cells: Vec<&str> = table
            .rows
            .iter()
            .flat_map(|r| r.cells.iter())
            .filter(|(c, _)| *c == col)
            .map(|(_, cell)| cell.text(text))
            .filter(|t| !t.trim().is_empty())
            .collect();
        let figures = cells.iter().filter(|t| is_number_cell(t)).count();
        if cells.len() >= 2 && figures * 3 >= cells.len() * 2 {
            column.role = Role::Target;
        }
    }
}

/// The rows one line (or one run of cell lines) holds: the row, then any sub-rows the
/// alignment found after it.
fn build_rows(
    text: &str,
    columns: &[Column],
    cells: &[Cell],
    explicit_cells: bool,
    one_per_line: bool,
    single_spaced: bool,
) -> Vec<Row> {
    let kinds: Vec<Kind> = cells.iter().map(|c| kind(c.text(text))).collect();
    // a row flattened one cell per line with exactly one line per column (empty cells kept)
    // says where each cell goes: by its position
    let placed = if one_per_line && cells.len() == columns.len() {
        (0..cells.len()).map(|col| Some((0, col))).collect()
    } else {
        align(&kinds, columns)
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut no = None;
    let mut current: Option<usize> = None;
    let mut parts: Vec<Vec<(usize, Cell)>> = Vec::new();
    for (c, p) in cells.iter().zip(placed.iter()) {
        let Some((sub, col)) = *p else { continue };
        if columns.get(col).is_some_and(|c| c.role == Role::No) {
            no = Some(c.text(text).to_string());
            continue;
        }
        if current != Some(sub) {
            parts.push(Vec::new());
            current = Some(sub);
        }
        if let Some(last) = parts.last_mut() {
            last.push((col, *c));
        }
    }
    for (k, part) in parts.into_iter().enumerate() {
        let Some(task) = part
            .iter()
            .find(|(col, _)| columns.get(*col).is_some_and(|c| c.role == Role::Task))
            .map(|(_, c)| *c)
            .filter(|c| c.start < c.end)
        else {
            continue;
        };
        // the row's text: from its task cell to the end of that line
        // where cells are clear (pipes, runs of spaces, one per line) the task cell is the
        // text; a single-spaced row reads as a whole from its task on
        let task_line_end = text
            .get(task.start..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |p| task.start + p);
        let line_end = if one_per_line {
            task.end
        } else if !single_spaced {
            part.iter()
                .filter(|(col, c)| {
                    columns.get(*col).is_some_and(|c| c.role == Role::Task)
                        && c.end <= task_line_end
                })
                .map(|(_, c)| c.end)
                .max()
                .unwrap_or(task.end)
        } else {
            text.get(task.start..)
                .and_then(|t| t.find('\n'))
                .map_or(text.len(), |p| task.start + p)
        };
        let row_text = text.get(task.start..line_end).unwrap_or("");
        let filled = part.len() + usize::from(no.is_some() && k == 0);
        rows.push(Row {
            no: if k == 0 { no.clone() } else { None },
            text: Cell {
                start: task.start,
                end: task.start + row_text.trim_end().len(),
            },
            merged: explicit_cells && filled < columns.len(),
            cells: part,
            section: None,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::lines;

    fn table(t: &str) -> Table {
        let ls = lines::split(t);
        find(t, &ls).into_iter().next().expect("a table")
    }

    fn row_texts(t: &str, tb: &Table) -> Vec<Vec<(Role, String)>> {
        tb.rows
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|(c, cell)| (tb.columns[*c].role, cell.text(t).to_string()))
                    .collect()
            })
            .collect()
    }

    /// A table flattened one cell per line, each cell ending in " |", an empty cell a lone
    /// "|": the empty cells keep their place, and the figures under 目标任务 are targets.
    #[test]
    fn piped_cells_one_per_line_keep_empty_cells() {
        let t = "序号 |\n项目名称 |\n责任单位 |\n目标任务 |\n完成情况 |\n备注 |\n\
                 1 |\n新建公共厕所 |\n城管局 |\n20座 |\n|\n正在选址 |\n\
                 2 |\n城镇新增就业 |\n人社局 |\n5200 |\n4100 |\n|\n\
                 3 |\n改造老旧小区 |\n住建局 |\n12个 |\n9 |\n|\n";
        let tb = table(t);
        let roles: Vec<Role> = tb.columns.iter().map(|c| c.role).collect();
        assert_eq!(roles[3], Role::Target, "{roles:?}");
        let rows = row_texts(t, &tb);
        assert_eq!(tb.rows.len(), 3, "{rows:?}");
        assert!(
            rows[0].contains(&(Role::Target, "20座".to_string())),
            "{rows:?}"
        );
        assert!(
            rows[0].contains(&(Role::Remark, "正在选址".to_string())),
            "{rows:?}"
        );
        assert!(
            rows[1].contains(&(Role::Target, "5200".to_string())),
            "{rows:?}"
        );
        assert!(
            rows[1].contains(&(Role::Actual, "4100".to_string())),
            "{rows:?}"
        );
        assert!(
            rows[2].contains(&(Role::Actual, "9".to_string())),
            "{rows:?}"
        );
    }

    #[test]
    fn single_spaced_with_letter_spaced_header() {
        let t = "序号 考核指标 单 位 工作目标 已完成数 占年任务之比 备  注\n\
                 1 城镇新增就业 万人 5.2 7.23  139.1% 人力资源社会保障局\n\
                 提质改造农村公路 公里  168 171.70  102.2%\n\
                 4 减少义务教育大班额1.4万个以上 869 1022 117.6% 教体局\n";
        let tb = table(t);
        let roles: Vec<Role> = tb.columns.iter().map(|c| c.role).collect();
        assert_eq!(
            roles,
            vec![
                Role::No,
                Role::Task,
                Role::Measure,
                Role::Target,
                Role::Actual,
                Role::Ratio,
                Role::Remark
            ]
        );
        let rows = row_texts(t, &tb);
        assert_eq!(tb.rows.len(), 3);
        assert_eq!(tb.rows[1].no, None);
        assert!(rows[2].contains(&(Role::Target, "869".to_string())));
        assert!(rows[2].contains(&(Role::Remark, "教体局".to_string())));
    }

    #[test]
    fn one_cell_per_line_with_sub_row() {
        let t = "序号\n\n民生实事\n\n责任单位\n\n完成时限\n\n1\n\n启动建设东湖湿地公园。\n\n县水务局\n\n县住建局\n\n12月底前\n\n\
                 2\n\n开工建设县老年养护楼。\n\n县民政局\n\n5月底前动工\n\n开工建设老年大学。\n\n12月底前\n";
        let tb = table(t);
        let rows = row_texts(t, &tb);
        assert_eq!(tb.rows.len(), 3, "{rows:?}");
        assert_eq!(
            rows[0]
                .iter()
                .filter(|(r, _)| *r == Role::Responsible)
                .count(),
            2
        );
        assert_eq!(tb.rows[2].no, None);
        assert!(rows[2].contains(&(Role::Deadline, "12月底前".to_string())));
    }
}
