//! The security configuration every service reads (TLS, token key, revocation polling, audit
//! retention) and its loaded form.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        Arc, RwLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use duban_proto::v1::{ListRevocationsRequest, token_service_client::TokenServiceClient};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, ClientTlsConfig, Identity as TlsIdentity, ServerTlsConfig};

use crate::{audit::MIN_RETENTION_DAYS, auth::TokenKey, peer};

/// TLS, tokens and the audit trail, from the environment or flags.
#[derive(clap::Args, Clone, Debug)]
pub struct SecurityConfig {
    /// PEM certificate chain this service presents; with --tls-key turns TLS on.
    #[arg(long, env = "DUBAN_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "DUBAN_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) client certificates must chain to: mutual TLS.
    #[arg(long, env = "DUBAN_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// PEM CA certificate(s) that peers' (https) certificates must chain to.
    #[arg(long, env = "DUBAN_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Secret key file signing and verifying bearer tokens; turns authentication on.
    #[arg(long, env = "DUBAN_TOKEN_KEY_FILE")]
    pub token_key_file: Option<PathBuf>,
    /// Where the token revocation list is kept (the assignments service).
    #[arg(
        long,
        env = "DUBAN_REVOCATIONS_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub revocations_url: String,
    /// Seconds between polls of the revocation list.
    #[arg(long, env = "DUBAN_REVOCATIONS_POLL_SECONDS", default_value_t = 10)]
    pub revocations_poll_seconds: u64,
    /// Days audit events are kept, at least 184.
    #[arg(long, env = "DUBAN_AUDIT_RETENTION_DAYS", default_value_t = MIN_RETENTION_DAYS)]
    pub audit_retention_days: u32,
}

impl Default for SecurityConfig {
    /// Plaintext, no authentication: local development.
    fn default() -> Self {
        Self {
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_ca: None,
            token_key_file: None,
            revocations_url: "http://127.0.0.1:50053".to_string(),
            revocations_poll_seconds: 10,
            audit_retention_days: MIN_RETENTION_DAYS,
        }
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))
}

/// How this service calls its peers: TLS roots and the key its service tokens are signed with.
#[derive(Clone, Debug, Default)]
pub struct PeerSecurity {
    pub tls: Option<ClientTlsConfig>,
    pub key: Option<Arc<TokenKey>>,
    /// The calling service's name, the subject of its service tokens.
    pub service: &'static str,
}

impl SecurityConfig {
    /// The server's TLS settings; None for plaintext.
    pub fn server_tls(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => (cert, key),
            (None, None) => {
                if self.tls_client_ca.is_some() {
                    anyhow::bail!("DUBAN_TLS_CLIENT_CA needs DUBAN_TLS_CERT and DUBAN_TLS_KEY");
                }
                return Ok(None);
            }
            _ => anyhow::bail!("DUBAN_TLS_CERT and DUBAN_TLS_KEY go together"),
        };
        let mut tls = ServerTlsConfig::new().identity(TlsIdentity::from_pem(
            read(cert, "TLS certificate")?,
            read(key, "TLS key")?,
        ));
        if let Some(ca) = &self.tls_client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(read(ca, "TLS client CA")?));
        }
        Ok(Some(tls))
    }

    /// How to reach peers: with DUBAN_TLS_CA their certificates are checked against it (and
    /// this service's own certificate is presented for mutual TLS).
    pub fn peer_security(
        &self,
        service: &'static str,
        key: Option<Arc<TokenKey>>,
    ) -> anyhow::Result<PeerSecurity> {
        let tls = match &self.tls_ca {
            None => None,
            Some(ca) => {
                let mut tls = ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(read(ca, "TLS CA")?));
                if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
                    tls = tls.identity(TlsIdentity::from_pem(
                        read(cert, "TLS certificate")?,
                        read(key, "TLS key")?,
                    ));
                }
                Some(tls)
            }
        };
        Ok(PeerSecurity { tls, key, service })
    }

    pub fn token_key(&self) -> anyhow::Result<Option<Arc<TokenKey>>> {
        self.token_key_file
            .as_deref()
            .map(|path| TokenKey::from_file(path).map(Arc::new))
            .transpose()
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.audit_retention_days < MIN_RETENTION_DAYS {
            anyhow::bail!(
                "DUBAN_AUDIT_RETENTION_DAYS is {}: audit events must be kept at least {MIN_RETENTION_DAYS} days",
                self.audit_retention_days
            );
        }
        if self.revocations_poll_seconds == 0 {
            anyhow::bail!("DUBAN_REVOCATIONS_POLL_SECONDS must be at least 1");
        }
        Ok(())
    }
}

/// The token ids revoked so far, as this service knows them.
#[derive(Debug, Default)]
pub struct Revocations {
    ids: RwLock<HashSet<String>>,
    since: AtomicI64,
}

impl Revocations {
    pub fn contains(&self, token_id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(token_id)
    }

    /// Adds revocations up to position `seq`.
    pub fn add(&self, ids: impl IntoIterator<Item = String>, seq: i64) {
        self.ids
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(ids);
        self.since.fetch_max(seq, Ordering::Relaxed);
    }

    /// The highest position known.
    pub fn since(&self) -> i64 {
        self.since.load(Ordering::Relaxed)
    }

    /// Polls `url`'s ListRevocations every `every` until `shutdown`, keeping the last list when
    /// a poll fails.
    pub async fn poll(
        self: Arc<Self>,
        url: String,
        peers: PeerSecurity,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        let client = match peer::connect(&url, every.max(Duration::from_secs(3)), &peers) {
            Ok(channel) => TokenServiceClient::new(channel),
            Err(err) => {
                tracing::error!(error = %err, "cannot poll the token revocation list");
                return;
            }
        };
        loop {
            let call = client
                .clone()
                .list_revocations(ListRevocationsRequest {
                    since_seq: self.since(),
                })
                .await;
            match call {
                Ok(response) => {
                    let list = response.into_inner().revocations;
                    let seq = list.iter().map(|r| r.seq).max().unwrap_or(0);
                    self.add(list.into_iter().map(|r| r.token_id), seq);
                }
                Err(status) => tracing::warn!(
                    code = ?status.code(),
                    message = status.message(),
                    "polling the token revocation list failed; keeping the last one"
                ),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
