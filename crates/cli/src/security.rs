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
}

/// Fetches the whole trail of the service at `channel` and recomputes its chain.
pub async fn verify(url: &str, channel: AuthedChannel) -> anyhow::Result<Verified> {
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
    let breaks = audit::verify_chain(anchor_seq, &anchor_hash, &rows);
    Ok(Verified {
        url: url.to_string(),
        rows: rows.len(),
        anchor_seq,
        breaks,
    })
}
