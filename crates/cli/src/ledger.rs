//! `duban tasks --unit`, `duban units`, `duban units merge`: the unit registry and ledgers.

use duban_proto::v1::{
    GetTaskRequest, ListLedgerRequest, ListUnitsRequest, MergeUnitsRequest, UnitRole,
    UnmergeUnitRequest, assignments_service_client::AssignmentsServiceClient,
    targets_service_client::TargetsServiceClient,
};

use crate::{
    Format,
    client::{Peers, all_pages, connect, status_error},
    output,
};

fn role_label(role: i32) -> &'static str {
    match UnitRole::try_from(role).unwrap_or(UnitRole::Unspecified) {
        UnitRole::Lead => "牵头",
        UnitRole::Responsible => "责任",
        UnitRole::Cooperating => "配合",
        UnitRole::Unspecified => "",
    }
}

/// A unit's ledger (台账): its assignments across plans with the task text and next due date.
pub async fn unit_tasks(
    peers: &Peers,
    format: Format,
    unit: &str,
    plan: Option<&str>,
    as_of: &str,
) -> anyhow::Result<()> {
    let assignments =
        AssignmentsServiceClient::new(connect(&peers.assignments_url, &peers.auth).await?);
    let mut targets = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let plan = plan.map(plan_name).unwrap_or_default();
    let mut resolved = None;
    let entries = all_pages(|page_token| {
        let mut client = assignments.clone();
        let request = ListLedgerRequest {
            unit: unit.to_string(),
            plan: plan.clone(),
            as_of: as_of.to_string(),
            page_size: 1000,
            page_token,
        };
        async move {
            let r = client.list_ledger(request).await?.into_inner();
            Ok((vec![(r.unit, r.entries)], r.next_page_token))
        }
    })
    .await?
    .into_iter()
    .flat_map(|(u, entries)| {
        resolved = resolved.take().or(u);
        entries
    })
    .collect::<Vec<_>>();
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(assignment) = entry.assignment else {
            continue;
        };
        let task = targets
            .get_task(GetTaskRequest {
                name: assignment.task.clone(),
            })
            .await
            .map_err(status_error)?
            .into_inner();
        rows.push((assignment, task, entry.via_generic, entry.next_due_date));
    }
    if let (Some(unit), Format::Table) = (&resolved, format) {
        eprintln!(
            "{} ({}){}",
            unit.display_name,
            unit.name,
            if unit.provisional {
                " — provisional"
            } else {
                ""
            }
        );
    }
    output::print(
        format,
        &["TASK", "NO", "ROLE", "LEVEL", "AS", "NEXT DUE", "TEXT"],
        &rows,
        |(a, t, via, due)| {
            vec![
                a.task.clone(),
                t.number.clone(),
                role_label(a.role).to_string(),
                a.level.clone(),
                if *via {
                    a.unit_display_name.clone()
                } else {
                    a.written_name.clone()
                },
                due.clone(),
                output::clip(&t.text, 50),
            ]
        },
    )
}

fn plan_name(plan: &str) -> String {
    if plan.starts_with("plans/") {
        plan.to_string()
    } else {
        format!("plans/{plan}")
    }
}

pub async fn units(peers: &Peers, format: Format, provisional: bool) -> anyhow::Result<()> {
    let client = AssignmentsServiceClient::new(connect(&peers.assignments_url, &peers.auth).await?);
    let filter = if provisional { "provisional=true" } else { "" }.to_string();
    let units = all_pages(|page_token| {
        let mut client = client.clone();
        let filter = filter.clone();
        async move {
            let r = client
                .list_units(ListUnitsRequest {
                    page_size: 1000,
                    page_token,
                    filter,
                })
                .await?
                .into_inner();
            Ok((r.units, r.next_page_token))
        }
    })
    .await?;
    output::print(
        format,
        &["NAME", "LEVEL", "KIND", "STATE", "DISPLAY NAME", "ALIASES"],
        &units,
        |u| {
            let state = if !u.merged_into.is_empty() {
                format!("merged into {}", u.merged_into)
            } else if u.provisional {
                "provisional".to_string()
            } else {
                "reviewed".to_string()
            };
            vec![
                u.name.clone(),
                u.level.clone(),
                u.kind.clone(),
                state,
                u.display_name.clone(),
                u.aliases.join("、"),
            ]
        },
    )
}

/// Resolves "units/N" or a spelling to a unit name.
async fn unit_name(
    client: &mut AssignmentsServiceClient<duban_cli::security::AuthedChannel>,
    unit: &str,
) -> anyhow::Result<String> {
    if unit.starts_with("units/") {
        return Ok(unit.to_string());
    }
    let found = client
        .list_units(ListUnitsRequest {
            page_size: 2,
            page_token: String::new(),
            filter: format!("display_name=\"{}\"", unit.replace('"', "\\\"")),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .units;
    found
        .into_iter()
        .next()
        .map(|u| u.name)
        .ok_or_else(|| anyhow::anyhow!("no unit is known as {unit:?}"))
}

pub async fn merge(
    peers: &Peers,
    format: Format,
    source: &str,
    target: &str,
    reviewed: bool,
) -> anyhow::Result<()> {
    let mut client =
        AssignmentsServiceClient::new(connect(&peers.assignments_url, &peers.auth).await?);
    let source = unit_name(&mut client, source).await?;
    let target = unit_name(&mut client, target).await?;
    let unit = client
        .merge_units(MergeUnitsRequest {
            source: source.clone(),
            target,
            request_id: String::new(),
            merge_reviewed: reviewed,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(
        format,
        &["MERGED", "INTO", "DISPLAY NAME", "ALIASES"],
        &[unit],
        |u| {
            vec![
                source.clone(),
                u.name.clone(),
                u.display_name.clone(),
                u.aliases.join("、"),
            ]
        },
    )
}

pub async fn unmerge(peers: &Peers, format: Format, unit: &str) -> anyhow::Result<()> {
    let mut client =
        AssignmentsServiceClient::new(connect(&peers.assignments_url, &peers.auth).await?);
    // a merged unit's spellings lead to the unit it went into: it is named by its id
    let name = match unit.strip_prefix("units/").unwrap_or(unit) {
        id if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => format!("units/{id}"),
        _ => anyhow::bail!(
            "name the merged unit as units/N: its spellings now lead to the unit it went into"
        ),
    };
    let unit = client
        .unmerge_unit(UnmergeUnitRequest {
            name,
            request_id: String::new(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(format, &["NAME", "DISPLAY NAME", "ALIASES"], &[unit], |u| {
        vec![u.name.clone(), u.display_name.clone(), u.aliases.join("、")]
    })
}
