//! `duban token …` and `duban audit verify`: issuing and revoking bearer tokens, and checking
//! every service's audit trail through the API.

use std::time::Duration;

use duban_kit::audit::{self, ChainBreak, Row};
use duban_proto::v1::{ListAuditEventsRequest, audit_service_client::AuditServiceClient};
use tonic::{
    Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, ClientTlsConfig},
};

/// Adds `authorization: Bearer <token>` to every call (nothing when the token is empty).
#[derive(Clone, Debug)]
pub struct Bearer(pub String);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if !self.0.is_empty() {
            let value = MetadataValue::try_from(format!("Bearer {}", self.0))
                .map_err(|_| Status::invalid_argument("the token is not valid header text"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

pub type AuthedChannel = InterceptedService<Channel, Bearer>;

/// A channel to `url` (https with `tls`) carrying `token`.
pub fn channel(
    url: &str,
    token: &str,
    tls: Option<ClientTlsConfig>,
) -> anyhow::Result<AuthedChannel> {
    let channel = duban_kit::peer::channel(url, Duration::from_secs(60), tls)?;
    Ok(InterceptedService::new(channel, Bearer(token.to_string())))
}

/// One service's trail as verified.
#[derive(Debug)]
pub struct Verified {
    pub url: String,
    pub rows: usize,
    pub anchor_seq: i64,
    pub breaks: Vec<ChainBreak>,
    /// The trail's newest row (the anchor when it has none), to keep for the next verification.
    pub head: Head,
}

/// The newest row of a trail when it was last verified. The chain proves that no row before
/// the newest was changed, but not that the newest rows are all there: cutting rows off the end,
/// or rewriting the end and recomputing its hashes, leaves a chain that verifies. A head kept
/// outside the database (`duban audit verify --heads FILE`) reveals both.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub seq: i64,
    /// Hex.
    pub row_hash: String,
}

/// Whether `rows` (after the anchor `anchor_seq`/`anchor_hash`) still hold the head recorded
/// earlier: a break when the row is gone or different, nothing when it is there or when
/// retention pruning has since moved the anchor past it.
pub fn check_head(
    anchor_seq: i64,
    anchor_hash: &[u8],
    rows: &[Row],
    recorded: &Head,
) -> Option<ChainBreak> {
    if recorded.seq < anchor_seq {
        return None;
    }
    let found = if recorded.seq == anchor_seq {
        Some(anchor_hash)
    } else {
        rows.iter()
            .find(|row| row.seq == recorded.seq)
            .map(|row| row.row_hash.as_slice())
    };
    match found {
        None => Some(ChainBreak {
            seq: recorded.seq,
            reason: format!(
                "the trail ends at row {} but row {} was there when last verified: rows were cut from its end",
                rows.last().map_or(anchor_seq, |row| row.seq),
                recorded.seq
            ),
        }),
        Some(hash) if hex::encode(hash) != recorded.row_hash => Some(ChainBreak {
            seq: recorded.seq,
            reason: "it differs from the row recorded when last verified: the trail was rewritten"
                .to_string(),
        }),
        Some(_) => None,
    }
}

/// Fetches the whole trail of the service at `channel` and recomputes its chain; with `recorded`
/// (the head of an earlier verification) also checks that the trail still holds it.
pub async fn verify(
    url: &str,
    channel: AuthedChannel,
    recorded: Option<&Head>,
) -> anyhow::Result<Verified> {
    let mut client = AuditServiceClient::new(channel);
    let mut rows = Vec::new();
    let mut after = 0;
    let mut anchor = None;
    loop {
        let page = client
            .list_audit_events(ListAuditEventsRequest {
                after_seq: after,
                page_size: 5000,
            })
            .await
            .map_err(|s| anyhow::anyhow!("{url}: {:?}: {}", s.code(), s.message()))?
            .into_inner();
        anchor.get_or_insert((page.anchor_seq, page.anchor_hash));
        let Some(last) = page.events.last() else {
            break;
        };
        after = last.seq;
        rows.extend(page.events.iter().map(Row::from_event));
        if after >= page.last_seq {
            break;
        }
    }
    let (anchor_seq, anchor_hash) = anchor.unwrap_or_default();
    let mut breaks = audit::verify_chain(anchor_seq, &anchor_hash, &rows);
    breaks.extend(recorded.and_then(|head| check_head(anchor_seq, &anchor_hash, &rows, head)));
    let head = rows.last().map_or_else(
        || Head {
            seq: anchor_seq,
            row_hash: hex::encode(anchor_hash),
        },
        |row| Head {
            seq: row.seq,
            row_hash: hex::encode(&row.row_hash),
        },
    );
    Ok(Verified {
        url: url.to_string(),
        rows: rows.len(),
        anchor_seq,
        breaks,
        head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_kit::audit::{Entry, genesis_hash};

    fn chain(n: i64) -> Vec<Row> {
        let mut prev = genesis_hash();
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    actor: "admin".into(),
                    role: "admin".into(),
                    token_id: String::new(),
                    method: "/duban.v1.TargetsService/UpdateTask".into(),
                    resource: format!("plans/1/tasks/{seq}"),
                    code: "OK".into(),
                    request_sha256: Vec::new(),
                    response_sha256: Vec::new(),
                };
                let row_hash = Row::hash(&prev, seq, seq, &entry);
                Row {
                    seq,
                    at_micros: seq,
                    entry,
                    prev_hash: std::mem::replace(&mut prev, row_hash.clone()),
                    row_hash,
                }
            })
            .collect()
    }

    fn head(rows: &[Row]) -> Head {
        let last = rows.last().expect("rows");
        Head {
            seq: last.seq,
            row_hash: hex::encode(&last.row_hash),
        }
    }

    #[test]
    fn a_kept_head_reveals_a_cut_or_rewritten_end() {
        let rows = chain(6);
        let recorded = head(&rows[..5]);
        assert_eq!(check_head(0, &genesis_hash(), &rows, &recorded), None);

        // Rows 4..6 cut: the chain of what is left verifies, the head does not.
        let cut = &rows[..3];
        assert!(audit::verify_chain(0, &genesis_hash(), cut).is_empty());
        let found = check_head(0, &genesis_hash(), cut, &recorded).expect("a break");
        assert_eq!(found.seq, 5);
        assert!(
            found.reason.contains("cut from its end"),
            "{}",
            found.reason
        );

        // Rows 4.. rewritten with recomputed hashes: the chain verifies, the head does not.
        let mut rewritten = rows[..3].to_vec();
        let mut prev = rewritten[2].row_hash.clone();
        for mut row in rows[3..].iter().cloned() {
            row.entry.actor = "someone else".into();
            row.prev_hash = prev.clone();
            row.row_hash = Row::hash(&prev, row.seq, row.at_micros, &row.entry);
            prev = row.row_hash.clone();
            rewritten.push(row);
        }
        assert!(audit::verify_chain(0, &genesis_hash(), &rewritten).is_empty());
        let found = check_head(0, &genesis_hash(), &rewritten, &recorded).expect("a break");
        assert!(found.reason.contains("rewritten"), "{}", found.reason);

        // Pruned up to the head: the anchor holds it.
        assert_eq!(
            check_head(5, &rows[4].row_hash, &rows[5..], &recorded),
            None
        );
    }
}
