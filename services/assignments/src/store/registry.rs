//! SQL for the unit registry: loading the data file, merging units, ledgers and loads.

use std::collections::HashMap;

use chrono::NaiveDate;
use duban_db::{api_error, idempotency};
use duban_kit::audit;
use duban_proto::{
    ApiError,
    v1::{Assignment, LedgerEntry, MergeUnitsRequest, Unit, UnitLoad, UnmergeUnitRequest},
};
use sqlx::{FromRow, Postgres, Transaction};

use super::{ASSIGNMENT_COLUMNS, AssignmentRow, Store};
use crate::{
    domain,
    registry::{self, Entry},
};

/// The units merged into unit $1, directly or through others: a CTE named `merged`.
const MERGED_INTO: &str = "WITH RECURSIVE merged(id) AS (
     SELECT id FROM units WHERE merged_into = $1
     UNION SELECT u.id FROM units u JOIN merged m ON u.merged_into = m.id)";

/// Ends a change to the registry: unit `id` as it now stands is the answer, recorded with the
/// request in the audit trail, in the same transaction.
async fn answer(
    mut tx: Transaction<'_, Postgres>,
    method: &str,
    request_id: &str,
    id: i64,
) -> Result<Unit, ApiError> {
    let row: super::UnitRow = sqlx::query_as(&format!(
        "SELECT {} FROM units u WHERE u.id = $1",
        super::UNIT_COLUMNS
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(api_error)?;
    let unit = Unit::from(row);
    audit::record(&mut tx, method, request_id, &unit).await?;
    tx.commit().await.map_err(api_error)?;
    Ok(unit)
}

/// Moves `source`'s spellings and assignments to `target` and marks `source` merged.
async fn merge(
    tx: &mut Transaction<'_, Postgres>,
    source: i64,
    target: i64,
) -> Result<(), ApiError> {
    let aliases = sqlx::query(
        "UPDATE unit_aliases SET original_unit_id = coalesce(original_unit_id, unit_id), unit_id = $2
         WHERE unit_id = $1",
    )
    .bind(source)
    .bind(target)
    .execute(&mut **tx)
    .await
    .map_err(api_error)?
    .rows_affected();
    let assignments = sqlx::query(
        "UPDATE assignments SET original_unit_id = coalesce(original_unit_id, unit_id), unit_id = $2
         WHERE unit_id = $1",
    )
    .bind(source)
    .bind(target)
    .execute(&mut **tx)
    .await
    .map_err(api_error)?
    .rows_affected();
    sqlx::query("UPDATE units SET merged_into = $2 WHERE id = $1")
        .bind(source)
        .bind(target)
        .execute(&mut **tx)
        .await
        .map_err(api_error)?;
    sqlx::query("INSERT INTO unit_merges (source_id, target_id, aliases_moved, assignments_moved) VALUES ($1, $2, $3, $4)")
        .bind(source)
        .bind(target)
        .bind(i32::try_from(aliases).unwrap_or(i32::MAX))
        .bind(i32::try_from(assignments).unwrap_or(i32::MAX))
        .execute(&mut **tx)
        .await
        .map_err(api_error)?;
    Ok(())
}

#[derive(FromRow)]
struct LoadRow {
    unit_id: i64,
    display_name: String,
    lead: i64,
    responsible: i64,
    cooperating: i64,
    tasks: i64,
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Store {
    /// Brings the registry in line with the data file: listed bodies become reviewed units with
    /// their spellings; a provisional unit created earlier under one of those spellings is
    /// merged into the listed body. Safe when several replicas start at once.
    pub async fn load_registry(&self, entries: &[Entry]) -> Result<(), ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.assignments.registry'))")
            .execute(&mut *tx)
            .await
            .map_err(api_error)?;
        for entry in entries {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO units (display_name, level, kind, provisional, expands) VALUES ($1, $2, $3, false, $4)
                 ON CONFLICT (display_name) DO UPDATE SET level = $2, kind = $3, provisional = false, expands = $4
                 RETURNING id",
            )
            .bind(&entry.canonical)
            .bind(&entry.level)
            .bind(&entry.kind)
            .bind(&entry.expands)
            .fetch_one(&mut *tx)
            .await
            .map_err(api_error)?;
            let spellings = std::iter::once(&entry.canonical).chain(&entry.aliases);
            for spelling in spellings {
                let key = domain::normalize(spelling);
                let holder: Option<(i64, bool)> = sqlx::query_as(
                    "SELECT u.id, u.provisional FROM unit_aliases a JOIN units u ON u.id = a.unit_id WHERE a.alias = $1",
                )
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
                match holder {
                    None => {
                        sqlx::query("INSERT INTO unit_aliases (alias, unit_id) VALUES ($1, $2)")
                            .bind(&key)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(api_error)?;
                    }
                    Some((holder, true)) if holder != id => merge(&mut tx, holder, id).await?,
                    // Already ours, or an operator gave this spelling to another reviewed unit.
                    Some(_) => {}
                }
            }
        }
        tx.commit().await.map_err(api_error)
    }

    /// The plans the assignments of unit `id` belong to.
    pub async fn plans_of_unit(&self, id: i64) -> Result<Vec<i64>, ApiError> {
        sqlx::query_scalar(
            "SELECT DISTINCT plan_id FROM assignments WHERE unit_id = $1 ORDER BY plan_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)
    }

    /// Merges unit `source` into `target`. With `checked`, the merge may move assignments of
    /// those plans only (the ones the caller was found allowed to change); one assigned since
    /// in another plan stops it.
    pub async fn merge_units(
        &self,
        source: i64,
        target: i64,
        req: &MergeUnitsRequest,
        checked: Option<&[i64]>,
    ) -> Result<Unit, ApiError> {
        if source == target {
            return Err(ApiError::invalid(
                "target",
                "a unit cannot be merged into itself",
            ));
        }
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Unit>(&mut tx, "MergeUnits", &req.request_id, &print).await?
        {
            return Ok(done);
        }
        let rows: Vec<(i64, Option<i64>, bool, String)> = sqlx::query_as(
            "SELECT id, merged_into, provisional, display_name FROM units WHERE id = ANY($1)
             ORDER BY id FOR UPDATE",
        )
        .bind([source, target])
        .fetch_all(&mut *tx)
        .await
        .map_err(api_error)?;
        let mut reviewed = Vec::new();
        for (id, field) in [(source, "source"), (target, "target")] {
            match rows.iter().find(|(r, ..)| *r == id) {
                None => return Err(ApiError::not_found(format!("units/{id}"))),
                Some((_, Some(into), ..)) => {
                    return Err(ApiError::FailedPrecondition {
                        reason: "UNIT_MERGED",
                        message: format!(
                            "the {field} units/{id} was already merged into units/{into}"
                        ),
                    });
                }
                Some((_, None, false, name)) => reviewed.push(format!("units/{id} ({name})")),
                Some(_) => {}
            }
        }
        if reviewed.len() == 2 && !req.merge_reviewed {
            return Err(ApiError::FailedPrecondition {
                reason: "UNITS_REVIEWED",
                message: format!(
                    "{} are both reviewed units: no document read them as one body. Set \
                     merge_reviewed to merge them anyway (UnmergeUnit undoes it)",
                    reviewed.join(" and ")
                ),
            });
        }
        if let Some(checked) = checked {
            // The units are locked: no assignment can reach the source until the merge ends.
            let plans: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT plan_id FROM assignments WHERE unit_id = $1 AND plan_id <> ALL($2)",
            )
            .bind(source)
            .bind(checked)
            .fetch_all(&mut *tx)
            .await
            .map_err(api_error)?;
            if let Some(plan) = plans.first() {
                return Err(ApiError::FailedPrecondition {
                    reason: "UNIT_ASSIGNMENTS_CHANGED",
                    message: format!(
                        "units/{source} was assigned in plans/{plan} while the merge was checked; \
                         retry the merge"
                    ),
                });
            }
        }
        merge(&mut tx, source, target).await?;
        answer(tx, "MergeUnits", &req.request_id, target).await
    }

    /// The plans of the assignments that undoing the merge of `id` would move back: its own and
    /// those of units merged into it.
    pub async fn plans_moving_back(&self, id: i64) -> Result<Vec<i64>, ApiError> {
        sqlx::query_scalar(&format!(
            "{MERGED_INTO} SELECT DISTINCT plan_id FROM assignments
             WHERE original_unit_id = $1 OR original_unit_id IN (SELECT id FROM merged)
             ORDER BY plan_id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)
    }

    /// Undoes the merge of unit `id`. With `checked`, only assignments of those plans may move
    /// back (the ones the caller was found allowed to change).
    pub async fn unmerge_unit(
        &self,
        id: i64,
        req: &UnmergeUnitRequest,
        checked: Option<&[i64]>,
    ) -> Result<Unit, ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Unit>(&mut tx, "UnmergeUnit", &req.request_id, &print).await?
        {
            return Ok(done);
        }
        let row: Option<(Option<i64>, String)> =
            sqlx::query_as("SELECT merged_into, display_name FROM units WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
        let (merged_into, display_name) =
            row.ok_or_else(|| ApiError::not_found(format!("units/{id}")))?;
        let Some(target) = merged_into else {
            return Err(ApiError::FailedPrecondition {
                reason: "UNIT_NOT_MERGED",
                message: format!("units/{id} ({display_name}) is not merged into another unit"),
            });
        };
        let further: Option<i64> =
            sqlx::query_scalar("SELECT merged_into FROM units WHERE id = $1 FOR UPDATE")
                .bind(target)
                .fetch_one(&mut *tx)
                .await
                .map_err(api_error)?;
        if let Some(further) = further {
            return Err(ApiError::FailedPrecondition {
                reason: "UNIT_MERGED",
                message: format!(
                    "units/{target}, which units/{id} went into, was merged into units/{further} \
                     since: undo that merge first"
                ),
            });
        }
        if let Some(checked) = checked {
            let plans: Vec<i64> = sqlx::query_scalar(&format!(
                "{MERGED_INTO} SELECT DISTINCT plan_id FROM assignments
                 WHERE (original_unit_id = $1 OR original_unit_id IN (SELECT id FROM merged))
                   AND plan_id <> ALL($2)"
            ))
            .bind(id)
            .bind(checked)
            .fetch_all(&mut *tx)
            .await
            .map_err(api_error)?;
            if let Some(plan) = plans.first() {
                return Err(ApiError::FailedPrecondition {
                    reason: "UNIT_ASSIGNMENTS_CHANGED",
                    message: format!(
                        "units/{id} was assigned in plans/{plan} while the undo was checked; retry"
                    ),
                });
            }
        }
        // what came with `id`: its own rows, and those of units merged into it before
        for table in ["unit_aliases", "assignments"] {
            sqlx::query(&format!(
                "{MERGED_INTO} UPDATE {table}
                 SET unit_id = $1,
                     original_unit_id = CASE WHEN original_unit_id = $1 THEN NULL ELSE original_unit_id END
                 WHERE unit_id = $2
                   AND (original_unit_id = $1 OR original_unit_id IN (SELECT id FROM merged))"
            ))
            .bind(id)
            .bind(target)
            .execute(&mut *tx)
            .await
            .map_err(api_error)?;
        }
        // merges made before spellings remembered their unit: its own name at least goes back
        sqlx::query(
            "UPDATE unit_aliases SET unit_id = $1
             WHERE unit_id = $2 AND original_unit_id IS NULL AND alias = $3",
        )
        .bind(id)
        .bind(target)
        .bind(domain::normalize(&display_name))
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        sqlx::query("UPDATE units SET merged_into = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(api_error)?;
        sqlx::query(
            "UPDATE unit_merges SET undone_at = now() WHERE source_id = $1 AND undone_at IS NULL",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        answer(tx, "UnmergeUnit", &req.request_id, id).await
    }

    /// The unit a ledger request names: "units/N" or a spelling documents use.
    pub async fn find_unit(&self, name: &str) -> Result<Unit, ApiError> {
        if name.starts_with("units/") {
            let id = duban_kit::names::parse("unit", name, "units")?;
            return self.get_unit(id).await;
        }
        let key = domain::normalize(name);
        let mut keys = vec![key.clone()];
        keys.extend(registry::variants(&key));
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT unit_id FROM unit_aliases WHERE alias = ANY($1) ORDER BY alias = $2 DESC LIMIT 1",
        )
        .bind(&keys)
        .bind(&key)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        match id {
            Some(id) => self.get_unit(id).await,
            None => Err(ApiError::not_found(format!("unit {name:?}"))),
        }
    }

    pub async fn ledger(
        &self,
        unit: &Unit,
        plan: Option<i64>,
        as_of: NaiveDate,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<LedgerEntry>, ApiError> {
        let id = duban_kit::names::parse("unit", &unit.name, "units")?;
        let membership = format!("{}@{}", unit.kind, unit.level);
        let rows: Vec<AssignmentRow> = sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN units u ON u.id = a.unit_id
             WHERE (a.unit_id = $1 OR (u.kind = 'generic' AND u.expands = $2))
               AND ($3::bigint IS NULL OR a.plan_id = $3) AND a.id > $4
             ORDER BY a.id LIMIT $5"
        ))
        .bind(id)
        .bind(&membership)
        .bind(plan)
        .bind(after.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        let mut next_due: HashMap<i64, Option<(String, String)>> = HashMap::new();
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let via_generic = row.unit_id != id;
            let assignment = Assignment::from(row);
            let plan_id = duban_kit::names::parse_task("task", &assignment.task)
                .map(|(p, _)| p)
                .unwrap_or(0);
            if let std::collections::hash_map::Entry::Vacant(slot) = next_due.entry(plan_id) {
                let due = self.get_schedule(plan_id).await?.and_then(|(schedule, _)| {
                    schedule
                        .spec
                        .slots()
                        .into_iter()
                        .find(|slot| slot.due >= as_of)
                        .map(|slot| (slot.period.to_string(), slot.due.to_string()))
                });
                slot.insert(due);
            }
            let (next_period, next_due_date) = next_due
                .get(&plan_id)
                .cloned()
                .flatten()
                .unwrap_or_default();
            entries.push(LedgerEntry {
                assignment: Some(assignment),
                via_generic,
                next_period,
                next_due_date,
            });
        }
        Ok(entries)
    }

    /// Every unit's load over `plans` (all plans when None), heaviest first.
    pub async fn unit_loads(&self, plans: Option<&[i64]>) -> Result<Vec<UnitLoad>, ApiError> {
        let rows: Vec<LoadRow> = sqlx::query_as(
            "SELECT a.unit_id, u.display_name,
                    count(*) FILTER (WHERE a.role = 'lead') AS lead,
                    count(*) FILTER (WHERE a.role = 'responsible') AS responsible,
                    count(*) FILTER (WHERE a.role = 'cooperating') AS cooperating,
                    count(DISTINCT a.task) AS tasks
             FROM assignments a JOIN units u ON u.id = a.unit_id
             WHERE $1::bigint[] IS NULL OR a.plan_id = ANY($1)
             GROUP BY a.unit_id, u.display_name
             ORDER BY tasks DESC, a.unit_id",
        )
        .bind(plans)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rows
            .into_iter()
            .map(|r| UnitLoad {
                unit: format!("units/{}", r.unit_id),
                unit_display_name: r.display_name,
                lead: count(r.lead),
                responsible: count(r.responsible),
                cooperating: count(r.cooperating),
                tasks: count(r.tasks),
            })
            .collect())
    }
}
