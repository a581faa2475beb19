//! `duban lineage`, `duban scorecard`: indicators across levels and against outcomes.

use duban_proto::v1::{
    Comparator, GetIndicatorLineageRequest, GetScorecardRequest, Quantity, Verdict,
    targets_service_client::TargetsServiceClient,
};

use crate::{
    Format,
    client::{Peers, connect, status_error},
    output,
};

fn comparator_label(q: &Quantity) -> &'static str {
    match Comparator::try_from(q.comparator).unwrap_or(Comparator::Unspecified) {
        Comparator::About => "about",
        Comparator::AtLeast => "at least",
        Comparator::AtMost => "at most",
        Comparator::Equal => "equal",
        Comparator::Range => "range",
        Comparator::Unspecified => "",
    }
}

fn value(q: Option<&Quantity>) -> String {
    q.map(|q| format!("{} {} ({})", q.value, q.unit, comparator_label(q)))
        .unwrap_or_default()
}

pub async fn lineage(peers: &Peers, format: Format, name: &str) -> anyhow::Result<()> {
    let mut client = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let lineage = client
        .get_indicator_lineage(GetIndicatorLineageRequest {
            name: name.to_string(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    output::print(
        format,
        &["LEVEL", "INDICATOR", "VALUE", "WEAKER", "PHRASE", "PLAN"],
        &lineage.entries,
        |e| {
            let indicator = e.indicator.clone().unwrap_or_default();
            let q = indicator.quantity.as_ref();
            let marker = if indicator.name == lineage.indicator {
                " *"
            } else {
                ""
            };
            vec![
                e.level.clone(),
                format!("{}{marker}", indicator.name),
                value(q),
                if e.weaker {
                    "weaker".into()
                } else {
                    String::new()
                },
                q.map(|q| q.phrase.clone()).unwrap_or_default(),
                e.plan_title.clone(),
            ]
        },
    )
}

fn verdict_label(v: i32) -> &'static str {
    match Verdict::try_from(v).unwrap_or(Verdict::Unspecified) {
        Verdict::Met => "met",
        Verdict::Missed => "missed",
        Verdict::Unclear => "unclear",
        Verdict::Unspecified => "",
    }
}

pub async fn scorecard(peers: &Peers, format: Format, year: i32) -> anyhow::Result<()> {
    let mut client = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let card = client
        .get_scorecard(GetScorecardRequest { year })
        .await
        .map_err(status_error)?
        .into_inner();
    if let Format::Table = format {
        eprintln!(
            "{year}: {} met, {} missed, {} unclear; {} indicators without a stated outcome",
            card.met, card.missed, card.unclear, card.without_outcome
        );
    }
    output::print(
        format,
        &["VERDICT", "TARGET", "OUTCOME", "TASK", "SOURCE"],
        &card.entries,
        |e| {
            let target = e.indicator.as_ref().and_then(|i| i.quantity.as_ref());
            let outcome = e.outcome.as_ref().and_then(|o| o.quantity.as_ref());
            vec![
                verdict_label(e.verdict).to_string(),
                target
                    .map(|q| q.phrase.clone())
                    .unwrap_or_else(|| "(no target)".into()),
                outcome.map(|q| q.phrase.clone()).unwrap_or_default(),
                e.task.clone(),
                output::clip(&e.task_text, 50),
            ]
        },
    )
}
