//! The security layer in front of every service: authenticates the bearer token or, without
//! one, the verified client certificate (an [`Identity`] in the request's extensions), applies
//! the role policy table, and records the calls the table marks (and every refused call) in the
//! service's audit trail. A mutation's event is staged by the handler in its own transaction
//! (see [`audit::record`]); the layer stages the events of calls that changed nothing
//! (refusals, failures, replays, audited reads).
//!
//! Without a token key the layer lets everything through (local development) but still
//! records mutations, as "anonymous".

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tokio::sync::Notify;
use tonic::{
    Code, Status,
    body::Body,
    transport::server::{TcpConnectInfo, TlsConnectInfo},
};

use crate::{
    audit::{self, Entry, Staging},
    auth::{self, Audit, Identity, TokenError, TokenKey},
    metrics::grpc_status,
    security::Revocations,
};

/// What the layer needs; one per service.
pub struct Guard {
    pub key: Option<Arc<TokenKey>>,
    pub revocations: Arc<Revocations>,
    pub pool: PgPool,
    /// Signals the chainer that events were staged.
    pub staged: Arc<Notify>,
}

#[derive(Clone)]
pub struct GuardLayer {
    guard: Arc<Guard>,
}

impl GuardLayer {
    pub fn new(guard: Guard) -> Self {
        Self {
            guard: Arc::new(guard),
        }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: self.guard.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Arc<Guard>,
}

/// The outcome of checking a call's credentials and role.
enum Admission {
    Open,
    Allowed(Identity),
    Refused(Option<Identity>, Status),
}

impl Guard {
    fn admit(
        &self,
        method: &str,
        headers: &http::HeaderMap,
        extensions: &http::Extensions,
    ) -> Admission {
        let Some(key) = &self.key else {
            return Admission::Open;
        };
        if auth::is_open(method) {
            return Admission::Open;
        }
        // A token wins over the certificate: services present their certificates to peers but
        // act with the service tokens they send.
        let verified = match bearer(headers) {
            Some(Ok(token)) => key.identity(token),
            Some(Err(message)) => {
                return Admission::Refused(None, Status::unauthenticated(message));
            }
            None => match client_certificate(extensions) {
                Some(identity) => identity,
                None => {
                    return Admission::Refused(
                        None,
                        Status::unauthenticated(
                            "missing credentials: send \"authorization: Bearer <token>\"",
                        ),
                    );
                }
            },
        };
        let identity = match verified {
            Err(err) => return Admission::Refused(None, Status::unauthenticated(err.to_string())),
            Ok(identity) => identity,
        };
        if self.revocations.contains(&identity.token_id) {
            let what = if identity.by_certificate() {
                "the client certificate has been revoked"
            } else {
                "the token has been revoked"
            };
            return Admission::Refused(Some(identity), Status::unauthenticated(what));
        }
        match auth::rule_for(method) {
            None => Admission::Refused(
                Some(identity),
                Status::permission_denied(format!(
                    "{method} is not in the access policy: nobody may call it"
                )),
            ),
            Some(rule) if !rule.roles.contains(&identity.role) => {
                let role = identity.role;
                Admission::Refused(
                    Some(identity),
                    Status::permission_denied(format!("role {role} may not call {method}")),
                )
            }
            Some(_) => Admission::Allowed(identity),
        }
    }
}

/// The bearer token of a call, None when it sends no authorization header.
fn bearer(headers: &http::HeaderMap) -> Option<Result<&str, &'static str>> {
    let value = headers.get(http::header::AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        return Some(Err("the authorization header is not ASCII"));
    };
    Some(
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("the authorization header must be \"Bearer <token>\""),
    )
}

/// The identity of the client certificate the TLS handshake verified against
/// DUBAN_TLS_CLIENT_CA; None without mutual TLS.
fn client_certificate(extensions: &http::Extensions) -> Option<Result<Identity, TokenError>> {
    let certs = extensions
        .get::<TlsConnectInfo<TcpConnectInfo>>()?
        .peer_certs()?;
    certs.first().map(|leaf| Identity::from_certificate(leaf))
}

/// Whether a call is recorded: the methods the policy marks, and every refusal.
fn audited(method: &str, identity: Option<&Identity>) -> bool {
    match auth::rule_for(method).map(|r| r.audit) {
        Some(Audit::Always) => true,
        Some(Audit::SupervisorReads) => identity.is_some_and(|i| i.role == auth::Role::Supervisor),
        Some(Audit::No) | None => false,
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, ResBody> tower::Service<http::Request<Body>> for GuardService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let guard = self.guard.clone();
        Box::pin(async move {
            let method = request.uri().path().to_string();
            let identity = match guard.admit(&method, request.headers(), request.extensions()) {
                Admission::Open => None,
                Admission::Allowed(identity) => Some(identity),
                Admission::Refused(identity, status) => {
                    if !auth::is_open(&method) {
                        let (request_bytes, _) = read_body(request.into_body()).await;
                        let entry = entry(
                            &method,
                            identity.as_ref(),
                            status.code(),
                            &request_bytes,
                            &[],
                        );
                        guard.record(&entry).await;
                    }
                    return Ok(status.into_http());
                }
            };
            if let Some(identity) = &identity {
                request.extensions_mut().insert(identity.clone());
            }
            if !audited(&method, identity.as_ref()) {
                let response = inner.call(request).await?;
                return Ok(response.map(Body::new));
            }
            let (parts, body) = request.into_parts();
            let (request_bytes, complete) = read_body(body).await;
            if !complete {
                return Ok(
                    Status::invalid_argument("the request body could not be read").into_http(),
                );
            }
            let request = http::Request::from_parts(
                parts,
                Body::new(http_body_util::Full::new(request_bytes.clone())),
            );
            let staging = Arc::new(Staging::new(entry(
                &method,
                identity.as_ref(),
                Code::Ok,
                &request_bytes,
                &[],
            )));
            let response = audit::STAGING
                .scope(staging.clone(), inner.call(request))
                .await?;
            let (parts, body) = response.into_parts();
            let (code, response_bytes, body) = match body.collect().await {
                Ok(collected) => {
                    let trailers = collected.trailers().cloned();
                    let code = trailers
                        .as_ref()
                        .and_then(grpc_status)
                        .or_else(|| grpc_status(&parts.headers))
                        .unwrap_or(Code::Unknown);
                    let bytes = collected.to_bytes();
                    (code, bytes.clone(), rebuild(bytes, trailers))
                }
                Err(_) => (Code::Unknown, Bytes::new(), Body::empty()),
            };
            if code == Code::Ok && staging.staged() {
                guard.staged.notify_one();
            } else {
                let entry = entry(
                    &method,
                    identity.as_ref(),
                    code,
                    &request_bytes,
                    &response_bytes,
                );
                guard.record(&entry).await;
            }
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// The response body again, as the handler wrote it. A trailers-only response (an error: its
/// grpc-status is in the headers, the body is empty) must stay an empty body that ends the
/// stream with the headers: a body that only might carry trailers makes hyper send the headers
/// without END_STREAM and then an empty DATA frame with END_STREAM, which the gRPC
/// specification forbids and the C core (grpcio, and every client built on it) reads as
/// UNKNOWN "Stream removed", losing the status.
fn rebuild(bytes: Bytes, trailers: Option<http::HeaderMap>) -> Body {
    match trailers {
        None if bytes.is_empty() => Body::empty(),
        None => Body::new(http_body_util::Full::new(bytes)),
        Some(trailers) => Body::new(http_body_util::Full::new(bytes).with_trailers(
            std::future::ready(Some(Ok::<_, std::convert::Infallible>(trailers))),
        )),
    }
}

/// The whole body and whether it was read completely.
async fn read_body(body: Body) -> (Bytes, bool) {
    match body.collect().await {
        Ok(collected) => (collected.to_bytes(), true),
        Err(_) => (Bytes::new(), false),
    }
}

impl Guard {
    /// Stages the event of a call that changed nothing.
    async fn record(&self, entry: &Entry) {
        match audit::stage(&self.pool, entry).await {
            Ok(()) => self.staged.notify_one(),
            Err(err) => {
                tracing::error!(error = %err, method = %entry.method, code = %entry.code, "AUDIT EVENT LOST: writing the audit trail failed");
            }
        }
    }
}

/// The audit code of a status: "OK" or the canonical name, e.g. "PERMISSION_DENIED".
fn code_name(code: Code) -> String {
    match code {
        Code::Ok => "OK".to_string(),
        other => {
            let mut name = String::new();
            for (i, ch) in format!("{other:?}").chars().enumerate() {
                if ch.is_uppercase() && i > 0 {
                    name.push('_');
                }
                name.push(ch.to_ascii_uppercase());
            }
            name
        }
    }
}

fn entry(
    method: &str,
    identity: Option<&Identity>,
    code: Code,
    request: &[u8],
    response: &[u8],
) -> Entry {
    let request_message = grpc_message(request);
    let response_message = grpc_message(response);
    let resource = resource(request_message)
        .or_else(|| resource(response_message))
        .unwrap_or_default();
    let (actor, role, token_id) = match identity {
        Some(i) => (i.actor(), i.role.to_string(), i.token_id.clone()),
        None if code == Code::Unauthenticated => {
            ("unauthenticated".into(), String::new(), String::new())
        }
        None => ("anonymous".into(), String::new(), String::new()),
    };
    Entry {
        actor,
        role,
        token_id,
        method: method.to_string(),
        resource,
        code: code_name(code),
        request_sha256: audit::digest(request_message),
        response_sha256: audit::digest(response_message),
    }
}

/// The message of a unary gRPC body: the bytes after the 5-byte frame header (all of them when
/// the body is not one frame).
fn grpc_message(body: &[u8]) -> &[u8] {
    if body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        if body.len() == 5 + len {
            return &body[5..];
        }
    }
    body
}

/// The resource a call names: field 1 of the message when it is a short text (a resource name
/// such as "plans/5/tasks/40" or a token id), else field 1 of the message in field 1 (the
/// resource of an Update or Create request). Requests are looked at first, then responses (the
/// name of a created resource).
pub(crate) fn resource(message: &[u8]) -> Option<String> {
    let first = field_one(message)?;
    text(first).or_else(|| field_one(first).and_then(text))
}

fn text(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    (!s.is_empty() && s.len() <= 200 && !s.chars().any(char::is_control)).then(|| s.to_string())
}

/// The bytes of the first length-delimited field number 1 of a protobuf message.
fn field_one(mut buf: &[u8]) -> Option<&[u8]> {
    use prost::encoding::{WireType, decode_key, decode_varint};
    while buf.has_remaining() {
        let (tag, wire) = decode_key(&mut buf).ok()?;
        let skip = match wire {
            WireType::Varint => {
                decode_varint(&mut buf).ok()?;
                0
            }
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            WireType::LengthDelimited => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
                if len > buf.len() {
                    return None;
                }
                if tag == 1 {
                    return Some(&buf[..len]);
                }
                len
            }
            WireType::StartGroup | WireType::EndGroup => return None,
        };
        if skip > buf.len() {
            return None;
        }
        buf = &buf[skip..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn resources_are_found_in_requests_and_nested_messages() {
        let get = duban_proto::v1::GetPlanRequest {
            name: "plans/7".into(),
        };
        assert_eq!(resource(&get.encode_to_vec()).as_deref(), Some("plans/7"));
        let update = duban_proto::v1::UpdateTaskRequest {
            task: Some(duban_proto::v1::Task {
                name: "plans/7/tasks/3".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            resource(&update.encode_to_vec()).as_deref(),
            Some("plans/7/tasks/3")
        );
        assert_eq!(resource(&[]), None);
    }

    #[test]
    fn codes_are_named_canonically() {
        assert_eq!(code_name(Code::Ok), "OK");
        assert_eq!(code_name(Code::PermissionDenied), "PERMISSION_DENIED");
        assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
    }
}
