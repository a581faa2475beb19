//! Secrets for tests that run the services as a deployment does: TLS with certificates made
//! here (rcgen) and bearer tokens signed with a key made here.

use std::{path::PathBuf, time::Duration};

use duban_cli::stack::StackConfig;
use duban_kit::{
    auth::{Role, TokenKey},
    security::SecurityConfig,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};

use crate::{TestSet, fresh_database};

/// Key and certificates of one test, in a fresh folder: the token signing key, a CA, and a
/// server certificate for localhost and 127.0.0.1 signed by it.
pub struct Secrets {
    pub dir: PathBuf,
    pub key: TokenKey,
    pub ca: CertifiedIssuer<'static, KeyPair>,
}

pub fn secrets() -> Secrets {
    let dir = std::env::temp_dir().join(format!(
        "duban-auth-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("a temp folder");
    let secret = "a-test-signing-key-of-more-than-32-bytes";
    std::fs::write(dir.join("token.key"), format!("{secret}\n")).expect("writing the key");

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct subjects: a leaf whose subject equals its issuer's reads as self-signed to
    // OpenSSL and BoringSSL (grpcio), whatever the signature says.
    ca_params.distinguished_name = named("duban test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("a CA");
    let server_key = KeyPair::generate().expect("server key");
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("server params");
    server_params.distinguished_name = named("duban test server");
    let server = server_params
        .signed_by(&server_key, &ca)
        .expect("a server certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("writing the CA");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("writing the certificate");
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).expect("writing the key");
    Secrets {
        key: TokenKey::from_secret(secret.as_bytes()).expect("the key"),
        dir,
        ca,
    }
}

impl Secrets {
    /// TLS and tokens on, as a deployment runs (no client certificates required).
    pub fn config(&self) -> SecurityConfig {
        SecurityConfig {
            tls_cert: Some(self.dir.join("server.pem")),
            tls_key: Some(self.dir.join("server.key")),
            tls_client_ca: None,
            tls_ca: Some(self.dir.join("ca.pem")),
            token_key_file: Some(self.dir.join("token.key")),
            revocations_poll_seconds: 1,
            ..SecurityConfig::default()
        }
    }

    /// A token of `unit` in `role` for `government`, valid for an hour.
    pub fn token(&self, unit: &str, role: Role, government: &str) -> String {
        self.key
            .issue(unit, role, government, Duration::from_secs(3600))
            .expect("a token")
            .0
    }
}

/// The four services with TLS and tokens on.
pub async fn secure_set(secrets: &Secrets) -> TestSet {
    let mut config = StackConfig::ephemeral(&fresh_database().await);
    config.security = secrets.config();
    TestSet::start_with(config).await
}

fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}
