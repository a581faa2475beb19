//! SQL for observations, lineage, weaker targets and the scorecard.

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{audit, list::Term, names};
use duban_proto::{
    ApiError,
    v1::{
        Comparator, CreateObservationRequest, Indicator, IndicatorLineage, LineageEntry,
        Observation, Quantity, Scorecard, ScorecardEntry, SourceSpan, Verdict, WeakerIndicator,
    },
};
use sqlx::{FromRow, Postgres, QueryBuilder, Transaction};

use super::{Store, timestamp};
use crate::{domain, indicators};

/// Where the outcomes a task states come from.
pub struct Outcomes<'a> {
    pub task_id: i64,
    pub year: i32,
    pub issuer: &'a str,
    pub plan_id: i64,
    pub source: &'a str,
    pub span: &'a SourceSpan,
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "met",
        Verdict::Missed => "missed",
        Verdict::Unclear => "unclear",
        Verdict::Unspecified => "",
    }
}

fn verdict_from_str(v: &str) -> Verdict {
    match v {
        "met" => Verdict::Met,
        "missed" => Verdict::Missed,
        "unclear" => Verdict::Unclear,
        _ => Verdict::Unspecified,
    }
}

fn comparator_of(q: &Quantity) -> &'static str {
    Comparator::try_from(q.comparator)
        .ok()
        .and_then(domain::comparator_str)
        .unwrap_or("equal")
}

struct NewObservation<'a> {
    task_id: i64,
    indicator_id: Option<i64>,
    quantity: &'a Quantity,
    as_of: &'a str,
    year: i32,
    source: &'a str,
    span: Option<&'a SourceSpan>,
    verdict: Verdict,
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    o: NewObservation<'_>,
) -> Result<i64, ApiError> {
    let span = o.span.cloned().unwrap_or_default();
    sqlx::query_scalar(
        "INSERT INTO observations (task_id, indicator_id, phrase, metric, value, value_max, unit,
             comparator, as_of, year, source, span_document, span_start, span_end, verdict)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(o.task_id)
    .bind(o.indicator_id)
    .bind(&o.quantity.phrase)
    .bind(&o.quantity.metric)
    .bind(o.quantity.value)
    .bind(o.quantity.value_max)
    .bind(&o.quantity.unit)
    .bind(comparator_of(o.quantity))
    .bind(o.as_of)
    .bind(o.year)
    .bind(o.source)
    .bind(&span.document)
    .bind(i64::try_from(span.start).unwrap_or(i64::MAX))
    .bind(i64::try_from(span.end).unwrap_or(i64::MAX))
    .bind(verdict_str(o.verdict))
    .fetch_one(&mut **tx)
    .await
    .map_err(api_error)
}

/// Records the outcomes a new task states: each against the task's own indicator it reports on,
/// else against the same indicator of an earlier plan of the same issuer and year, else as an
/// outcome without a target.
pub async fn record_outcomes(
    tx: &mut Transaction<'_, Postgres>,
    at: &Outcomes<'_>,
    own: &[(i64, Quantity)],
    actuals: &[Quantity],
) -> Result<(), ApiError> {
    let mut left: Vec<&Quantity> = actuals.iter().filter(|q| q.value.is_finite()).collect();
    for (indicator_id, target) in own {
        let candidates: Vec<Quantity> = left.iter().map(|q| (*q).clone()).collect();
        let Some(outcome) = indicators::matching_outcome(target, &candidates) else {
            continue;
        };
        let index = left.iter().position(|q| *q == outcome).unwrap_or(0);
        let outcome = left.remove(index);
        insert(
            tx,
            NewObservation {
                task_id: at.task_id,
                indicator_id: Some(*indicator_id),
                quantity: outcome,
                as_of: "",
                year: at.year,
                source: at.source,
                span: Some(at.span),
                verdict: indicators::judge(target, outcome),
            },
        )
        .await?;
    }
    for outcome in left {
        let key = indicators::metric_key(&outcome.metric, &outcome.unit);
        let earlier: Option<IndicatorQuantity> = if at.issuer.is_empty() {
            None
        } else {
            sqlx::query_as(
                "SELECT i.id, i.metric, i.value, i.value_max, i.unit, i.comparator, i.phrase
                 FROM indicators i JOIN tasks t ON t.id = i.task_id JOIN plans p ON p.id = t.plan_id
                 WHERE i.year = $1 AND i.metric_key = $2 AND p.issuer = $3 AND p.id <> $4
                 ORDER BY i.id LIMIT 1",
            )
            .bind(at.year)
            .bind(&key)
            .bind(at.issuer)
            .bind(at.plan_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(api_error)?
        };
        let (indicator_id, verdict) = match &earlier {
            Some(target) => (
                Some(target.id),
                indicators::judge(&target.quantity(), outcome),
            ),
            None => (None, Verdict::Unclear),
        };
        insert(
            tx,
            NewObservation {
                task_id: at.task_id,
                indicator_id,
                quantity: outcome,
                as_of: "",
                year: at.year,
                source: at.source,
                span: Some(at.span),
                verdict,
            },
        )
        .await?;
    }
    Ok(())
}

#[derive(FromRow)]
struct IndicatorQuantity {
    id: i64,
    metric: String,
    value: f64,
    value_max: Option<f64>,
    unit: String,
    comparator: String,
    phrase: String,
}

impl IndicatorQuantity {
    fn quantity(&self) -> Quantity {
        Quantity {
            phrase: self.phrase.clone(),
            metric: self.metric.clone(),
            value: self.value,
            value_max: self.value_max,
            unit: self.unit.clone(),
            comparator: domain::comparator_from_str(&self.comparator) as i32,
        }
    }
}

#[derive(Clone, FromRow)]
struct ObservationRow {
    id: i64,
    plan_id: i64,
    task_id: i64,
    indicator_id: Option<i64>,
    phrase: String,
    metric: String,
    value: f64,
    value_max: Option<f64>,
    unit: String,
    comparator: String,
    as_of: String,
    year: i32,
    source: String,
    span_document: String,
    span_start: i64,
    span_end: i64,
    verdict: String,
    created_at: DateTime<Utc>,
}

const OBSERVATION_COLUMNS: &str = "o.id, t.plan_id, o.task_id, o.indicator_id, o.phrase, o.metric,
    o.value, o.value_max, o.unit, o.comparator, o.as_of, o.year, o.source, o.span_document,
    o.span_start, o.span_end, o.verdict, o.created_at";

impl From<ObservationRow> for Observation {
    fn from(r: ObservationRow) -> Self {
        let task = names::task(r.plan_id, r.task_id);
        let (name, indicator) = match r.indicator_id {
            Some(i) => {
                let indicator = format!("{task}/indicators/{i}");
                (format!("{indicator}/observations/{}", r.id), indicator)
            }
            None => (format!("{task}/observations/{}", r.id), String::new()),
        };
        Observation {
            name,
            indicator,
            quantity: Some(Quantity {
                phrase: r.phrase,
                metric: r.metric,
                value: r.value,
                value_max: r.value_max,
                unit: r.unit,
                comparator: domain::comparator_from_str(&r.comparator) as i32,
            }),
            as_of: r.as_of,
            year: r.year,
            source: r.source,
            source_span: (!r.span_document.is_empty()).then(|| SourceSpan {
                document: r.span_document,
                start: u64::try_from(r.span_start).unwrap_or(0),
                end: u64::try_from(r.span_end).unwrap_or(0),
            }),
            verdict: verdict_from_str(&r.verdict) as i32,
            create_time: Some(timestamp(r.created_at)),
        }
    }
}

#[derive(FromRow)]
struct FamilyRow {
    id: i64,
    task_id: i64,
    plan_id: i64,
    plan_title: String,
    level: String,
    phrase: String,
    metric: String,
    value: f64,
    value_max: Option<f64>,
    unit: String,
    comparator: String,
    warnings: Vec<String>,
    metric_key: String,
    year: i32,
}

impl FamilyRow {
    fn entry(&self) -> LineageEntry {
        let task = names::task(self.plan_id, self.task_id);
        LineageEntry {
            indicator: Some(Indicator {
                name: format!("{task}/indicators/{}", self.id),
                quantity: Some(Quantity {
                    phrase: self.phrase.clone(),
                    metric: self.metric.clone(),
                    value: self.value,
                    value_max: self.value_max,
                    unit: self.unit.clone(),
                    comparator: domain::comparator_from_str(&self.comparator) as i32,
                }),
                warnings: self.warnings.clone(),
                metric_key: self.metric_key.clone(),
                year: self.year,
            }),
            task,
            plan: names::plan(self.plan_id),
            plan_title: self.plan_title.clone(),
            level: self.level.clone(),
            weaker: false,
        }
    }
}

const FAMILY_COLUMNS: &str = "i.id, i.task_id, t.plan_id, p.title AS plan_title, p.level, i.phrase,
    i.metric, i.value, i.value_max, i.unit, i.comparator, i.warnings, i.metric_key, i.year";

fn quantity_of(entry: &LineageEntry) -> Quantity {
    entry
        .indicator
        .as_ref()
        .and_then(|i| i.quantity.clone())
        .unwrap_or_default()
}

/// Sorts a family from the top level down and marks each entry weaker than the nearest level
/// above it.
fn rank_family(mut entries: Vec<LineageEntry>) -> Vec<LineageEntry> {
    entries.sort_by_key(|e| indicators::level_rank(&e.level));
    let ranks: Vec<u8> = entries
        .iter()
        .map(|e| indicators::level_rank(&e.level))
        .collect();
    let quantities: Vec<Quantity> = entries.iter().map(quantity_of).collect();
    for (i, entry) in entries.iter_mut().enumerate() {
        let above = (0..i)
            .rev()
            .find(|&j| ranks[j] < ranks[i])
            .map(|j| ranks[j]);
        if let Some(rank) = above {
            entry.weaker = (0..i)
                .filter(|&j| ranks[j] == rank)
                .any(|j| indicators::is_weaker(&quantities[i], &quantities[j]));
        }
    }
    entries
}

impl Store {
    async fn family(&self, year: i32, key: &str) -> Result<Vec<LineageEntry>, ApiError> {
        let rows: Vec<FamilyRow> = sqlx::query_as(&format!(
            "SELECT {FAMILY_COLUMNS} FROM indicators i JOIN tasks t ON t.id = i.task_id
             JOIN plans p ON p.id = t.plan_id
             WHERE i.year = $1 AND i.metric_key = $2 AND p.level <> '' AND t.status = 'active'
             ORDER BY i.id"
        ))
        .bind(year)
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rank_family(rows.iter().map(FamilyRow::entry).collect()))
    }

    /// The lineage of an indicator, or of a task's first indicator.
    pub async fn lineage(
        &self,
        plan: i64,
        task: i64,
        indicator: Option<i64>,
    ) -> Result<IndicatorLineage, ApiError> {
        let row: Option<(i64, i32, String)> = sqlx::query_as(
            "SELECT i.id, i.year, i.metric_key FROM indicators i JOIN tasks t ON t.id = i.task_id
             WHERE t.plan_id = $1 AND t.id = $2 AND ($3::bigint IS NULL OR i.id = $3)
             ORDER BY i.position LIMIT 1",
        )
        .bind(plan)
        .bind(task)
        .bind(indicator)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        let task_name = names::task(plan, task);
        let Some((id, year, key)) = row else {
            return Err(match indicator {
                Some(i) => ApiError::not_found(format!("{task_name}/indicators/{i}")),
                None => ApiError::not_found(format!("an indicator of {task_name}")),
            });
        };
        Ok(IndicatorLineage {
            indicator: format!("{task_name}/indicators/{id}"),
            entries: self.family(year, &key).await?,
        })
    }

    pub async fn weaker(&self, year: i32, level: &str) -> Result<Vec<WeakerIndicator>, ApiError> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT i.metric_key FROM indicators i JOIN tasks t ON t.id = i.task_id
             JOIN plans p ON p.id = t.plan_id WHERE i.year = $1 AND p.level <> '' ORDER BY 1",
        )
        .bind(year)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        let mut out = Vec::new();
        for key in keys {
            let family = self.family(year, &key).await?;
            for (i, lower) in family.iter().enumerate() {
                if !lower.weaker || (!level.is_empty() && lower.level != level) {
                    continue;
                }
                let rank = indicators::level_rank(&lower.level);
                let upper_rank = family[..i]
                    .iter()
                    .map(|e| indicators::level_rank(&e.level))
                    .filter(|r| *r < rank)
                    .max();
                let upper = family[..i].iter().find(|e| {
                    Some(indicators::level_rank(&e.level)) == upper_rank
                        && indicators::is_weaker(&quantity_of(lower), &quantity_of(e))
                });
                if let Some(upper) = upper {
                    out.push(WeakerIndicator {
                        lower: Some(lower.clone()),
                        upper: Some(upper.clone()),
                    });
                }
            }
        }
        Ok(out)
    }

    pub async fn create_observation(
        &self,
        (plan, task, indicator): (i64, i64, i64),
        req: &CreateObservationRequest,
    ) -> Result<Observation, ApiError> {
        let observation = req.observation.clone().unwrap_or_default();
        let quantity = observation.quantity.clone().unwrap_or_default();
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Observation>(&mut tx, "CreateObservation", &req.request_id, &print)
                .await?
        {
            return Ok(done);
        }
        let target: Option<(i32, String)> = sqlx::query_as(
            "SELECT i.year, i.unit FROM indicators i JOIN tasks t ON t.id = i.task_id
             WHERE t.plan_id = $1 AND t.id = $2 AND i.id = $3",
        )
        .bind(plan)
        .bind(task)
        .bind(indicator)
        .fetch_optional(&mut *tx)
        .await
        .map_err(api_error)?;
        let Some((year, unit)) = target else {
            return Err(ApiError::not_found(req.parent.clone()));
        };
        let quantity = Quantity {
            unit: if quantity.unit.is_empty() {
                unit
            } else {
                quantity.unit
            },
            ..quantity
        };
        let id = insert(
            &mut tx,
            NewObservation {
                task_id: task,
                indicator_id: Some(indicator),
                quantity: &quantity,
                as_of: &observation.as_of,
                year: if observation.year > 0 {
                    observation.year
                } else {
                    year
                },
                source: &observation.source,
                span: observation.source_span.as_ref(),
                verdict: Verdict::Unspecified,
            },
        )
        .await?;
        let row: ObservationRow = sqlx::query_as(&format!(
            "SELECT {OBSERVATION_COLUMNS} FROM observations o JOIN tasks t ON t.id = o.task_id WHERE o.id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let created = Observation::from(row);
        audit::record(&mut tx, "CreateObservation", &req.request_id, &created).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(created)
    }

    pub async fn list_observations(
        &self,
        indicator: Option<i64>,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Observation>, ApiError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {OBSERVATION_COLUMNS} FROM observations o JOIN tasks t ON t.id = o.task_id WHERE true"
        ));
        if let Some(indicator) = indicator {
            q.push(" AND o.indicator_id = ").push_bind(indicator);
        }
        if let Some(after) = after {
            q.push(" AND o.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "year" => {
                    let year: i32 = term.value.parse().map_err(|_| {
                        ApiError::invalid(
                            "filter",
                            format!("year must be a number, not {:?}", term.value),
                        )
                    })?;
                    q.push(" AND o.year = ").push_bind(year);
                }
                "verdict" => {
                    let verdict = match term.value.to_ascii_uppercase().as_str() {
                        "MET" => "met",
                        "MISSED" => "missed",
                        "UNCLEAR" => "unclear",
                        _ => {
                            return Err(ApiError::invalid(
                                "filter",
                                "verdict must be MET, MISSED or UNCLEAR",
                            ));
                        }
                    };
                    q.push(" AND o.verdict = ").push_bind(verdict);
                }
                "source" => {
                    q.push(" AND o.source = ").push_bind(term.value.clone());
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY o.id LIMIT ").push_bind(limit);
        let rows: Vec<ObservationRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows.into_iter().map(Observation::from).collect())
    }

    /// The scorecard of `year` over the plans `readable` accepts (by plan id).
    pub async fn scorecard(
        &self,
        year: i32,
        readable: impl Fn(i64) -> bool,
    ) -> Result<Scorecard, ApiError> {
        let mut indicators: Vec<FamilyRow> = sqlx::query_as(&format!(
            "SELECT {FAMILY_COLUMNS} FROM indicators i JOIN tasks t ON t.id = i.task_id
             JOIN plans p ON p.id = t.plan_id WHERE i.year = $1 AND t.status = 'active' ORDER BY i.id"
        ))
        .bind(year)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        indicators.retain(|indicator| readable(indicator.plan_id));
        let mut outcomes: Vec<ObservationRow> = sqlx::query_as(&format!(
            "SELECT {OBSERVATION_COLUMNS} FROM observations o JOIN tasks t ON t.id = o.task_id
             WHERE o.verdict <> '' AND (o.year = $1 OR o.indicator_id IN
                 (SELECT id FROM indicators WHERE year = $1))
             ORDER BY o.id"
        ))
        .bind(year)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        outcomes.retain(|outcome| readable(outcome.plan_id));
        let texts: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, text FROM tasks WHERE id = ANY($1)")
                .bind(
                    indicators
                        .iter()
                        .map(|i| i.task_id)
                        .chain(outcomes.iter().map(|o| o.task_id))
                        .collect::<Vec<_>>(),
                )
                .fetch_all(&self.pool)
                .await
                .map_err(api_error)?;
        let text_of = |id: i64| {
            texts
                .iter()
                .find(|(t, _)| *t == id)
                .map(|(_, text)| text.clone())
                .unwrap_or_default()
        };
        let mut card = Scorecard {
            year,
            ..Default::default()
        };
        for indicator in &indicators {
            let stated: Vec<&ObservationRow> = outcomes
                .iter()
                .filter(|o| o.indicator_id == Some(indicator.id))
                .collect();
            if stated.is_empty() {
                card.without_outcome += 1;
            }
            for outcome in stated {
                let entry = indicator.entry();
                card.entries.push(ScorecardEntry {
                    task_text: text_of(indicator.task_id),
                    indicator: entry.indicator,
                    task: entry.task,
                    plan: entry.plan,
                    verdict: verdict_from_str(&outcome.verdict) as i32,
                    outcome: Some(observation_of(outcome)),
                });
            }
        }
        for outcome in outcomes.iter().filter(|o| o.indicator_id.is_none()) {
            card.entries.push(ScorecardEntry {
                indicator: None,
                task: names::task(outcome.plan_id, outcome.task_id),
                task_text: text_of(outcome.task_id),
                plan: names::plan(outcome.plan_id),
                verdict: Verdict::Unclear as i32,
                outcome: Some(observation_of(outcome)),
            });
        }
        for entry in &card.entries {
            match Verdict::try_from(entry.verdict).unwrap_or(Verdict::Unspecified) {
                Verdict::Met => card.met += 1,
                Verdict::Missed => card.missed += 1,
                Verdict::Unclear | Verdict::Unspecified => card.unclear += 1,
            }
        }
        Ok(card)
    }
}

fn observation_of(row: &ObservationRow) -> Observation {
    Observation::from(row.clone())
}
