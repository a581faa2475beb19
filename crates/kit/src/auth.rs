//! Who is calling and what they may do: signed bearer tokens, the caller's [`Identity`], the
//! per-method role policy, and the scope rules handlers apply to individual resources.
//!
//! Tokens are HS256 JSON Web Tokens (the `jsonwebtoken` crate) signed with one secret key shared
//! by the services and the `duban token issue` command. jsonwebtoken runs on its RustCrypto
//! backend: pure Rust, so building needs no C toolchain (its other backend, aws-lc-rs, compiles
//! C); HS256 uses only its hmac and sha2, and no other algorithm is accepted. A symmetric key fits because every
//! service must mint its own service tokens for its peer calls: every verifier is also a signer,
//! so an asymmetric scheme would not separate anyone, and one key file is simpler to rotate.

use std::{fmt, path::Path, str::FromStr, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::Status;

/// Issuer written into and required of every token.
const ISSUER: &str = "duban";
/// A key shorter than this is refused: HS256 wants at least 256 bits of secret.
const MIN_KEY_BYTES: usize = 32;
/// Lifetime of the tokens a service mints for each of its peer calls.
const SERVICE_TOKEN_TTL: Duration = Duration::from_secs(300);

/// What a caller may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Drafts progress reports for its own unit's assignments.
    Reporter,
    /// Signs its own unit's reports.
    UnitHead,
    /// 督查室: reads, reviews and issues bulletins for its own government's plans.
    Supervisor,
    /// Units, plans and tokens, and nothing else.
    Admin,
    /// Another duban service.
    Service,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Reporter,
        Role::UnitHead,
        Role::Supervisor,
        Role::Admin,
        Role::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "reporter",
            Role::UnitHead => "unit_head",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}: one of reporter, unit_head, supervisor, admin, service"
                )
            })
    }
}

/// The claims of a duban token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The unit ("units/12" or its name) or, for role service, the service's name.
    pub sub: String,
    pub role: Role,
    /// The government whose data the holder works on, e.g. 武昌区; empty: the whole deployment.
    #[serde(default)]
    pub gov: String,
    /// Token id, for revocation.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// The authenticated caller, put into every request's extensions by the security layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub unit: String,
    pub role: Role,
    pub government: String,
    pub token_id: String,
}

impl Identity {
    fn from_claims(claims: Claims) -> Self {
        Self {
            unit: claims.sub,
            role: claims.role,
            government: claims.gov,
            token_id: claims.jti,
        }
    }

    /// "unit@government" as the audit trail records the caller.
    pub fn actor(&self) -> String {
        if self.government.is_empty() {
            self.unit.clone()
        } else {
            format!("{}@{}", self.unit, self.government)
        }
    }

    /// Whether the caller may read a plan issued by `issuer` that decomposes `source_report`:
    /// its own government's plans; for a supervisor also the decompositions of its own
    /// government's report by the governments below (the source report names the caller's
    /// government); everything for services and for holders without a government.
    pub fn may_read_plan(&self, issuer: &str, source_report: &str) -> bool {
        self.may_change_plan(issuer)
            || (self.role == Role::Supervisor && source_report.contains(&self.government))
    }

    /// Whether the caller may change a plan issued by `issuer`: its own government's only.
    pub fn may_change_plan(&self, issuer: &str) -> bool {
        self.reads_everything() || government_of_issuer(issuer) == self.government
    }

    /// Whether no government limits the caller: services, and holders without a government.
    pub fn reads_everything(&self) -> bool {
        self.role == Role::Service || self.government.is_empty()
    }

    /// The unit a reporter or unit head acts for (its token's unit: a unit's name or display
    /// name); None for the roles not tied to a unit.
    pub fn own_unit(&self) -> Option<&str> {
        match self.role {
            Role::Reporter | Role::UnitHead => Some(&self.unit),
            Role::Supervisor | Role::Admin | Role::Service => None,
        }
    }

    /// Whether the caller acts for `unit` (any of its names): a reporter or unit head only for
    /// its own unit; other roles are not tied to a unit.
    pub fn acts_for_unit<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        self.own_unit()
            .is_none_or(|own| names.any(|name| name == own))
    }
}

/// What the token id of a caller identified by its client certificate starts with:
/// "cert:<serial>", so `duban token revoke cert:<serial>` revokes the certificate.
pub const CERTIFICATE_ID_PREFIX: &str = "cert:";

impl Identity {
    /// The identity a client certificate stands for, when a call brings no bearer token: subject
    /// CN = unit, OU = role, O = government (none: the whole deployment, as a token without one),
    /// token id "cert:<serial>". The TLS handshake has already checked the chain to
    /// DUBAN_TLS_CLIENT_CA, so only the subject and the validity period are read here.
    pub fn from_certificate(der: &[u8]) -> Result<Self, TokenError> {
        use x509_parser::prelude::{FromDer, X509Certificate};
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| TokenError(format!("the client certificate cannot be read: {e}")))?;
        let subject = cert.subject();
        let refuse = |why: &str| {
            TokenError(format!(
                "the client certificate ({subject}) is refused: {why}; its subject must name the \
                 unit (CN), the role (OU) and optionally the government (O)"
            ))
        };
        let unit = only_one(subject.iter_common_name())
            .map_err(|e| refuse(&format!("{e} unit (CN)")))?
            .ok_or_else(|| refuse("no unit (CN)"))?;
        let role = only_one(subject.iter_organizational_unit())
            .map_err(|e| refuse(&format!("{e} role (OU)")))?
            .ok_or_else(|| refuse("no role (OU)"))?;
        let role = role.parse::<Role>().map_err(|e| refuse(&e))?;
        // Service identity comes from the tokens the services mint for each peer call; a
        // certificate claiming it would be a second, longer-lived way to everything.
        if role == Role::Service {
            return Err(refuse("role service is carried by service tokens only"));
        }
        let government = only_one(subject.iter_organization())
            .map_err(|e| refuse(&format!("{e} government (O)")))?
            .unwrap_or_default();
        if !cert.validity().is_valid() {
            return Err(TokenError(format!(
                "the client certificate ({subject}) is outside its validity period"
            )));
        }
        Ok(Self {
            unit: unit.to_string(),
            role,
            government: government.to_string(),
            token_id: format!(
                "{CERTIFICATE_ID_PREFIX}{}",
                serial_hex(&hex::encode(cert.raw_serial()))
            ),
        })
    }

    /// Whether the caller was identified by a client certificate rather than a token.
    pub fn by_certificate(&self) -> bool {
        self.token_id.starts_with(CERTIFICATE_ID_PREFIX)
    }
}

/// The one text value of a subject attribute, None when absent; Err names what is wrong.
fn only_one<'a, 'b: 'a>(
    mut values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'b>>,
) -> Result<Option<&'b str>, &'static str> {
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one");
    }
    let text = first.as_str().map_err(|_| "an unreadable")?.trim();
    if text.is_empty() {
        return Err("an empty");
    }
    Ok(Some(text))
}

/// A serial number in hex as revocations keep it: lowercase, no colons, no leading zeros.
fn serial_hex(hex: &str) -> String {
    let digits: String = hex
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match digits.trim_start_matches('0') {
        "" => "0".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// The form a token id is revoked in: a certificate's serial however it was copied (openssl
/// prints `serial=0A1B…`, browsers `0a:1b:…`) becomes the id its holder is known by; token ids
/// stay as they are.
pub fn revocation_id(id: &str) -> String {
    let id = id.trim();
    match id.strip_prefix(CERTIFICATE_ID_PREFIX) {
        Some(serial) => format!("{CERTIFICATE_ID_PREFIX}{}", serial_hex(serial)),
        None => id.to_string(),
    }
}

/// The caller of a request: None when the services run open (no token key configured).
pub fn caller<T>(request: &tonic::Request<T>) -> Option<&Identity> {
    request.extensions().get::<Identity>()
}

/// PERMISSION_DENIED with `message`, for per-resource checks in handlers.
pub fn denied(message: impl Into<String>) -> Status {
    Status::permission_denied(message.into())
}

/// The government a plan's issuer belongs to: the issuer up to 人民政府 / 政府 / 办公室, e.g.
/// 武昌区人民政府办公室 -> 武昌区.
pub fn government_of_issuer(issuer: &str) -> &str {
    ["人民政府", "政府", "办公厅", "办公室"]
        .iter()
        .filter_map(|suffix| issuer.find(suffix))
        .min()
        .map_or(issuer, |end| &issuer[..end])
        .trim()
}

/// The signing and verifying key of the deployment.
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

/// Why a token or client certificate was refused; the message is what the caller sees with
/// UNAUTHENTICATED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

impl TokenKey {
    /// The key from the secret in `path` (surrounding whitespace ignored), at least 32 bytes:
    /// e.g. `head -c 32 /dev/urandom | base64 > token.key`.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("token key file {}: {e}", path.display()))?;
        Self::from_secret(bytes.trim_ascii())
            .map_err(|e| anyhow::anyhow!("token key file {}: {e}", path.display()))
    }

    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        if secret.len() < MIN_KEY_BYTES {
            anyhow::bail!(
                "the key must hold at least {MIN_KEY_BYTES} bytes, it holds {}",
                secret.len()
            );
        }
        let refused = |e: jsonwebtoken::errors::Error| anyhow::anyhow!("the token key: {e}");
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).map_err(refused)?,
            decoding: DecodingKey::from_secret(secret).map_err(refused)?,
        })
    }

    /// Claims for a new token of `ttl` from now, with a random id.
    pub fn claims(
        subject: &str,
        role: Role,
        government: &str,
        ttl: Duration,
    ) -> anyhow::Result<Claims> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        Ok(Claims {
            iss: ISSUER.to_string(),
            sub: subject.to_string(),
            role,
            gov: government.to_string(),
            jti: token_id(government, &random_id()?),
            iat: now,
            exp: now.saturating_add(ttl),
        })
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
    }

    /// A new token: `duban token issue`.
    pub fn issue(
        &self,
        subject: &str,
        role: Role,
        government: &str,
        ttl: Duration,
    ) -> anyhow::Result<(String, Claims)> {
        let claims = Self::claims(subject, role, government, ttl)?;
        Ok((self.sign(&claims)?, claims))
    }

    /// A short-lived token with role service, for one peer call of `service`.
    pub fn service_token(&self, service: &str) -> anyhow::Result<String> {
        self.issue(service, Role::Service, "", SERVICE_TOKEN_TTL)
            .map(|(token, _)| token)
    }

    /// The claims of `token` if this key signed it and it has not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                TokenError(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired".to_string(),
                    ErrorKind::InvalidSignature => {
                        "the token's signature is not valid for this deployment".to_string()
                    }
                    ErrorKind::InvalidIssuer => "the token was not issued by duban".to_string(),
                    other => format!("the token is malformed: {other:?}"),
                })
            })
    }

    /// The identity a bearer token stands for.
    pub fn identity(&self, token: &str) -> Result<Identity, TokenError> {
        self.verify(token).map(Identity::from_claims)
    }
}

/// 128 random bits, hex: token ids.
/// A token's id: `{government}/{random}` for a government's token, so that the government's
/// own admin may revoke it (and no other government's); a bare random id for a token of the
/// whole deployment.
fn token_id(government: &str, random: &str) -> String {
    if government.is_empty() {
        random.to_string()
    } else {
        format!("{government}/{random}")
    }
}

/// The government a token id names (see [`token_id`]); None for a token of the whole
/// deployment, a certificate (`cert:<serial>`) or an id of another form.
pub fn government_of_token_id(id: &str) -> Option<&str> {
    if id.starts_with(CERTIFICATE_ID_PREFIX) {
        return None;
    }
    id.split_once('/')
        .map(|(government, _)| government)
        .filter(|government| !government.is_empty())
}

fn random_id() -> anyhow::Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    Ok(hex::encode(bytes))
}

/// How a method is audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audit {
    /// Not recorded (reads), except when refused.
    No,
    /// Every call recorded: mutations.
    Always,
    /// Recorded when a supervisor calls it: reads of reports.
    SupervisorReads,
}

/// One row of the policy table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub method: &'static str,
    pub roles: &'static [Role],
    pub audit: Audit,
}

use Role::{Admin, Reporter, Service, Supervisor, UnitHead};

const EVERYONE: &[Role] = &[Reporter, UnitHead, Supervisor, Admin, Service];
const ADMIN: &[Role] = &[Admin];
const ADMIN_OR_SERVICE: &[Role] = &[Admin, Service];
const READERS_OF_DOCUMENTS: &[Role] = &[Supervisor, Admin, Service];

const fn rule(method: &'static str, roles: &'static [Role], audit: Audit) -> Rule {
    Rule {
        method,
        roles,
        audit,
    }
}

/// Who may call what. A method missing here is refused when auth is on (fail closed): a new RPC
/// needs its row. Health is open to everyone, authenticated or not (probes).
pub static POLICY: &[Rule] = &[
    // ingest: documents are plans' sources, so admins ingest them; the services deliver.
    rule(
        "/duban.v1.IngestService/CreateDocument",
        ADMIN,
        Audit::Always,
    ),
    rule(
        "/duban.v1.IngestService/GetDocument",
        READERS_OF_DOCUMENTS,
        Audit::No,
    ),
    rule(
        "/duban.v1.IngestService/ListDocuments",
        READERS_OF_DOCUMENTS,
        Audit::No,
    ),
    // targets: plans are the admin's; ingest delivers them as a service.
    rule(
        "/duban.v1.TargetsService/CreatePlan",
        ADMIN_OR_SERVICE,
        Audit::Always,
    ),
    rule("/duban.v1.TargetsService/GetPlan", EVERYONE, Audit::No),
    rule("/duban.v1.TargetsService/ListPlans", EVERYONE, Audit::No),
    rule("/duban.v1.TargetsService/GetTask", EVERYONE, Audit::No),
    rule("/duban.v1.TargetsService/ListTasks", EVERYONE, Audit::No),
    rule("/duban.v1.TargetsService/UpdateTask", ADMIN, Audit::Always),
    rule(
        "/duban.v1.TargetsService/CreateObservation",
        ADMIN_OR_SERVICE,
        Audit::Always,
    ),
    rule(
        "/duban.v1.TargetsService/ListObservations",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.TargetsService/GetIndicatorLineage",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.TargetsService/ListWeakerIndicators",
        EVERYONE,
        Audit::No,
    ),
    rule("/duban.v1.TargetsService/GetScorecard", EVERYONE, Audit::No),
    // assignments: units and the reporting schedule are the admin's. The unit registry is
    // shared reference data and open to every caller, unscoped: the units carry no government
    // (one 区发改局 row serves every plan that names it), and their names are published in the
    // very notices that assign them. What units are assigned is scoped: assignments, ledgers,
    // loads and schedules show only the plans the caller may read.
    rule("/duban.v1.AssignmentsService/GetUnit", EVERYONE, Audit::No),
    rule(
        "/duban.v1.AssignmentsService/GetAssignment",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.AssignmentsService/ListUnits",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.AssignmentsService/CreateAssignments",
        ADMIN_OR_SERVICE,
        Audit::Always,
    ),
    rule(
        "/duban.v1.AssignmentsService/ListAssignments",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.AssignmentsService/GetReportingSchedule",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.AssignmentsService/UpdateReportingSchedule",
        ADMIN_OR_SERVICE,
        Audit::Always,
    ),
    rule(
        "/duban.v1.AssignmentsService/MergeUnits",
        ADMIN,
        Audit::Always,
    ),
    rule(
        "/duban.v1.AssignmentsService/UnmergeUnit",
        ADMIN,
        Audit::Always,
    ),
    rule(
        "/duban.v1.AssignmentsService/ListLedger",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/duban.v1.AssignmentsService/ListUnitLoads",
        &[Supervisor, Admin, Service],
        Audit::No,
    ),
    // reporting: reporters draft; supervisors' reads are recorded.
    rule(
        "/duban.v1.ReportingService/CreateReport",
        &[Reporter],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/GetReport",
        &[Reporter, UnitHead, Supervisor, Service],
        Audit::SupervisorReads,
    ),
    rule(
        "/duban.v1.ReportingService/ListReports",
        &[Reporter, UnitHead, Supervisor, Service],
        Audit::SupervisorReads,
    ),
    rule(
        "/duban.v1.ReportingService/UpdateReport",
        &[Reporter],
        Audit::Always,
    ),
    // 主要领导签字同意: only a unit head signs.
    rule(
        "/duban.v1.ReportingService/SignReport",
        &[UnitHead],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/SubmitReport",
        &[Reporter, UnitHead],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/AcceptReport",
        &[Supervisor],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/ReturnReport",
        &[Supervisor],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/ListReportVersions",
        &[Reporter, UnitHead, Supervisor],
        Audit::SupervisorReads,
    ),
    rule(
        "/duban.v1.ReportingService/CreateEvidence",
        &[Reporter],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/GetEvidence",
        &[Reporter, UnitHead, Supervisor],
        Audit::SupervisorReads,
    ),
    rule(
        "/duban.v1.ReportingService/CreateExtension",
        &[Reporter, UnitHead],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/DecideExtension",
        &[Supervisor],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/ListExtensions",
        &[Reporter, UnitHead, Supervisor],
        Audit::No,
    ),
    // The thresholds are the supervision office's judgement; an admin runs plans, units and
    // tokens and has no use for them (least privilege).
    rule(
        "/duban.v1.ReportingService/GetSupervisionSettings",
        &[Supervisor],
        Audit::No,
    ),
    rule(
        "/duban.v1.ReportingService/UpdateSupervisionSettings",
        &[Supervisor],
        Audit::Always,
    ),
    rule(
        "/duban.v1.ReportingService/ListOverdueItems",
        &[Supervisor, Service],
        Audit::No,
    ),
    rule(
        "/duban.v1.ReportingService/ListLights",
        &[Supervisor, Service],
        Audit::No,
    ),
    rule(
        "/duban.v1.ReportingService/GetAggregates",
        &[Supervisor, Service],
        Audit::No,
    ),
    rule(
        "/duban.v1.ReportingService/GetBulletin",
        &[Supervisor],
        Audit::SupervisorReads,
    ),
    rule(
        "/duban.v1.ReportingService/SubscribeEvents",
        &[Supervisor, Service],
        Audit::No,
    ),
    // every service: its audit trail; assignments: token revocation.
    rule(
        "/duban.v1.AuditService/ListAuditEvents",
        &[Supervisor, Admin],
        Audit::No,
    ),
    rule("/duban.v1.TokenService/RevokeToken", ADMIN, Audit::Always),
    rule(
        "/duban.v1.TokenService/ListRevocations",
        ADMIN_OR_SERVICE,
        Audit::No,
    ),
    rule(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        EVERYONE,
        Audit::No,
    ),
    rule(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        EVERYONE,
        Audit::No,
    ),
];

/// Methods anyone may call without a token.
pub fn is_open(method: &str) -> bool {
    method.starts_with("/grpc.health.v1.Health/")
}

pub fn rule_for(method: &str) -> Option<&'static Rule> {
    POLICY.iter().find(|rule| rule.method == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_of_the_four_services_has_a_policy_row() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(duban_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptors");
        let mut missing = Vec::new();
        for file in &set.file {
            for service in &file.service {
                let name = service.name();
                // The echo service exists only inside `duban bench`.
                if name == "EchoService" {
                    continue;
                }
                for method in &service.method {
                    let path = format!("/{}.{name}/{}", file.package(), method.name());
                    if !POLICY.iter().any(|r| r.method == path) {
                        missing.push(path);
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "methods without a policy row (refused when auth is on): {missing:?}"
        );
    }

    fn key() -> TokenKey {
        TokenKey::from_secret(&[7u8; 32]).expect("a 32-byte key")
    }

    #[test]
    fn issued_tokens_verify_and_foreign_ones_do_not() {
        let (token, claims) = key()
            .issue("units/3", Role::Reporter, "武昌区", Duration::from_secs(60))
            .expect("issued");
        assert_eq!(key().verify(&token), Ok(claims));
        let other = TokenKey::from_secret(&[8u8; 32]).expect("a key");
        assert!(other.verify(&token).unwrap_err().0.contains("signature"));
        assert!(TokenKey::from_secret(b"short").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let mut claims =
            TokenKey::claims("units/3", Role::Reporter, "", Duration::ZERO).expect("claims");
        claims.exp -= 10;
        let token = key().sign(&claims).expect("signed");
        assert_eq!(key().verify(&token).unwrap_err().0, "the token has expired");
    }

    #[test]
    fn governments_come_from_issuers() {
        assert_eq!(government_of_issuer("武昌区人民政府办公室"), "武昌区");
        assert_eq!(government_of_issuer("武汉市人民政府"), "武汉市");
        assert_eq!(government_of_issuer("江岸区政府办公室"), "江岸区");
        assert_eq!(government_of_issuer("某县"), "某县");
    }

    #[test]
    fn only_reporters_and_unit_heads_are_tied_to_their_unit() {
        let holder = |role| Identity {
            unit: "区发改局".into(),
            role,
            government: "武昌区".into(),
            token_id: String::new(),
        };
        for role in [Role::Reporter, Role::UnitHead] {
            assert_eq!(holder(role).own_unit(), Some("区发改局"));
            assert!(holder(role).acts_for_unit(["units/1", "区发改局"].into_iter()));
            assert!(!holder(role).acts_for_unit(["units/2", "区财政局"].into_iter()));
        }
        for role in [Role::Supervisor, Role::Admin, Role::Service] {
            assert_eq!(holder(role).own_unit(), None);
            assert!(holder(role).acts_for_unit(["units/2"].into_iter()));
        }
    }

    /// A self-signed certificate with `subject` (type, value) pairs and serial 0x0a1b.
    fn certificate(subject: &[(rcgen::DnType, &str)]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in subject {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0a, 0x1b]));
        let key = rcgen::KeyPair::generate().expect("a key");
        params
            .self_signed(&key)
            .expect("a certificate")
            .der()
            .to_vec()
    }

    #[test]
    fn client_certificates_name_unit_role_and_government() {
        use rcgen::DnType::{CommonName, OrganizationName, OrganizationalUnitName};
        let der = certificate(&[
            (CommonName, "units/12"),
            (OrganizationalUnitName, "reporter"),
            (OrganizationName, "武昌区"),
        ]);
        let identity = Identity::from_certificate(&der).expect("an identity");
        assert_eq!(
            identity,
            Identity {
                unit: "units/12".into(),
                role: Role::Reporter,
                government: "武昌区".into(),
                token_id: "cert:a1b".into(),
            }
        );
        assert!(identity.by_certificate());
        // However the serial was copied, it revokes this certificate.
        for typed in ["cert:0A1B", "cert:0a:1b", " cert:a1b "] {
            assert_eq!(revocation_id(typed), identity.token_id, "{typed}");
        }
        assert_eq!(revocation_id("3f2a0c"), "3f2a0c");
    }

    #[test]
    fn client_certificates_without_a_valid_role_are_refused() {
        use rcgen::DnType::{CommonName, CustomDnType, OrganizationalUnitName};
        let cases = [
            (vec![(CommonName, "units/12")], "no role (OU)"),
            (vec![(OrganizationalUnitName, "reporter")], "no unit (CN)"),
            (
                vec![(CommonName, "units/12"), (OrganizationalUnitName, "chief")],
                "unknown role \"chief\"",
            ),
            (
                vec![(CommonName, "ingest"), (OrganizationalUnitName, "service")],
                "role service is carried by service tokens only",
            ),
            (
                vec![
                    (CommonName, "units/12"),
                    (OrganizationalUnitName, "reporter"),
                    (CustomDnType(vec![2, 5, 4, 11]), "supervisor"),
                ],
                "more than one role (OU)",
            ),
        ];
        for (subject, why) in cases {
            let err = Identity::from_certificate(&certificate(&subject)).unwrap_err();
            assert!(err.0.contains(why), "{subject:?}: {err}");
        }
        assert!(Identity::from_certificate(b"not DER").is_err());
    }

    #[test]
    fn every_policy_row_is_unique() {
        for (i, a) in POLICY.iter().enumerate() {
            assert!(
                POLICY[i + 1..].iter().all(|b| b.method != a.method),
                "{}",
                a.method
            );
        }
    }
}
