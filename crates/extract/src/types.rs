//! The public data model: what an extraction returns. JSON field names are a contract.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Extraction {
    pub source: String,
    pub document: DocumentMeta,
    pub plans: Vec<PlanMeta>,
    pub items: Vec<Item>,
    pub warnings: Vec<String>,
    /// The decoded text (after encoding detection and HTML/DOCX to text conversion, before
    /// clean-up) that item spans index into: item text, unit names and target phrases are
    /// emitted as written there.
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DocumentMeta {
    pub title: Option<String>,
    pub doc_number: Option<String>,
    pub issuer: Option<String>,
    /// YYYY-MM-DD
    pub published: Option<String>,
    pub kind: DocKind,
    pub year: Option<i32>,
    pub encoding: String,
    pub reporting_rule: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Decomposition,
    WorkReport,
    PlanExecution,
    #[default]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PlanMeta {
    pub title: String,
    pub attachment: Option<String>,
    /// 国家|省|市|区|县|街道
    pub level: Option<String>,
    pub source_report: Option<String>,
    pub year: Option<i32>,
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Item {
    pub plan: Option<String>,
    pub no: Option<String>,
    pub section: Vec<String>,
    pub text: String,
    pub category: Option<String>,
    pub units: Vec<UnitRef>,
    pub deadline: Option<String>,
    pub targets: Vec<Quantity>,
    pub actual: Vec<Quantity>,
    pub year: Option<i32>,
    /// Byte range of the item in `Extraction::text` (the decoded text as written).
    pub span: [usize; 2],
    pub warnings: Vec<String>,
    /// How sure the reading is, 0–1: low values go to a person first.
    #[serde(default)]
    pub confidence: f64,
    /// The evidence behind the reading and its confidence: mostly fixed phrases, which are
    /// borrowed rather than copied for every item.
    #[serde(default)]
    pub reasons: Vec<Cow<'static, str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRef {
    pub name: String,
    pub canonical: Option<String>,
    pub role: Role,
    /// 省/市/区/县/镇/乡/街道, from the label (市级牵头单位): one of a few words, borrowed.
    pub level: Option<Cow<'static, str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Lead,
    Responsible,
    Co,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub phrase: String,
    pub metric: String,
    pub value: f64,
    pub value_max: Option<f64>,
    pub unit: String,
    pub comparator: Comparator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    About,
    AtLeast,
    AtMost,
    Equal,
    Range,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Decoded {
    pub text: String,
    pub encoding: String,
}
