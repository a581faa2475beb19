//! Security end to end: the four services over TLS with certificates made here (rcgen),
//! bearer tokens signed with a key made here and client certificates (mutual TLS), the role
//! policy, per-resource scope checks across every service, revocation, and the hash-chained
//! audit trail with tamper detection.

use std::time::Duration;

use duban_cli::{
    security::{Bearer, channel, verify},
    stack::{Service, StackConfig},
};
use duban_kit::{
    auth::{Role, TokenKey},
    security::SecurityConfig,
};
use duban_proto::v1::{
    AcceptReportRequest, Actor, Assignment, AssignmentInput, BulletinFormat, Comparator,
    CreateAssignmentsRequest, CreateDocumentRequest, CreateEvidenceRequest, CreateExtensionRequest,
    CreatePlanRequest, CreateReportRequest, DecideExtensionRequest, DeliveryState, Evidence,
    Extension, GetAggregatesRequest, GetAssignmentRequest, GetBulletinRequest, GetDocumentRequest,
    GetEvidenceRequest, GetIndicatorLineageRequest, GetPlanRequest, GetReportRequest,
    GetReportingScheduleRequest, GetScorecardRequest, GetSupervisionSettingsRequest, Indicator,
    ListAssignmentsRequest, ListAuditEventsRequest, ListDocumentsRequest, ListExtensionsRequest,
    ListLedgerRequest, ListLightsRequest, ListObservationsRequest, ListOverdueItemsRequest,
    ListPlansRequest, ListReportVersionsRequest, ListReportsRequest, ListTasksRequest,
    ListUnitLoadsRequest, ListUnitsRequest, ListWeakerIndicatorsRequest, Plan, ProgressStatus,
    Quantity, Report, ReportingSchedule, RevokeTokenRequest, SignReportRequest,
    SubmitReportRequest, SubscribeEventsRequest, SupervisionSettings, Task, UnitRole,
    UpdateReportingScheduleRequest, UpdateSupervisionSettingsRequest, UpdateTaskRequest,
    assignments_service_client::AssignmentsServiceClient, audit_service_client::AuditServiceClient,
    ingest_service_client::IngestServiceClient, reporting_service_client::ReportingServiceClient,
    targets_service_client::TargetsServiceClient, token_service_client::TokenServiceClient,
};
use duban_testkit::{
    SEED_DECOMPOSITION, TestSet, fresh_database,
    secure::{Secrets, secrets, secure_set},
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    SerialNumber,
};
use tokio_stream::StreamExt;
use tonic::{
    Code,
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Identity as TlsIdentity},
};

type Authed = InterceptedService<Channel, Bearer>;

fn as_caller(set: &TestSet, service: Service, token: &str) -> Authed {
    InterceptedService::new(
        set.stack.channel(service).expect("a channel"),
        Bearer(token.to_string()),
    )
}

fn targets(set: &TestSet, token: &str) -> TargetsServiceClient<Authed> {
    TargetsServiceClient::new(as_caller(set, Service::Targets, token))
}

fn plan(issuer: &str, level: &str, source_report: &str) -> CreatePlanRequest {
    CreatePlanRequest {
        plan: Some(Plan {
            title: format!("{issuer}2025年目标任务分解方案"),
            year: 2025,
            issuer: issuer.to_string(),
            level: level.to_string(),
            source_report: source_report.to_string(),
            ..Default::default()
        }),
        tasks: vec![Task {
            number: "1".into(),
            text: "新增市场主体1000户以上".into(),
            ..Default::default()
        }],
        request_id: String::new(),
    }
}

/// Assigns the first task of `plan` to `unit` (as `admin`): what a report is filed on.
async fn assignment(set: &TestSet, admin: &str, plan: &str, unit: &str) -> Assignment {
    let task = targets(set, admin)
        .list_tasks(ListTasksRequest {
            parent: plan.to_string(),
            ..Default::default()
        })
        .await
        .expect("the plan's tasks")
        .into_inner()
        .tasks
        .remove(0);
    AssignmentsServiceClient::new(as_caller(set, Service::Assignments, admin))
        .create_assignments(CreateAssignmentsRequest {
            task: task.name,
            assignments: vec![AssignmentInput {
                written_name: unit.to_string(),
                role: UnitRole::Lead as i32,
                ..Default::default()
            }],
            request_id: String::new(),
        })
        .await
        .expect("an admin assigns a task")
        .into_inner()
        .assignments
        .remove(0)
}

fn report(assignment: &str) -> CreateReportRequest {
    CreateReportRequest {
        report: Some(Report {
            assignment: assignment.to_string(),
            period: "2025Q2".into(),
            status: ProgressStatus::OnPace as i32,
            progress: "按序时推进".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn sign(name: &str) -> SignReportRequest {
    SignReportRequest {
        name: name.to_string(),
        signer: Some(Actor {
            name: "张明".into(),
            role: "局长".into(),
        }),
        request_id: String::new(),
    }
}

fn list_plans() -> ListPlansRequest {
    ListPlansRequest::default()
}

#[tokio::test]
async fn tokens_are_required_and_checked_over_tls() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin-1", Role::Admin, "");

    // The plain clients of the set speak TLS but carry no token.
    let missing = set
        .targets
        .clone()
        .list_plans(list_plans())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(
        missing.message().contains("missing credentials"),
        "{}",
        missing.message()
    );

    let forged = TokenKey::from_secret(b"another-deployment-key-of-32-bytes-or-more")
        .expect("a key")
        .issue("admin-1", Role::Admin, "", Duration::from_secs(60))
        .expect("a token")
        .0;
    let status = targets(&set, &forged)
        .list_plans(list_plans())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("signature"),
        "{}",
        status.message()
    );

    let mut claims = TokenKey::claims("admin-1", Role::Admin, "", Duration::ZERO).expect("claims");
    claims.exp -= 60;
    let expired = secrets.key.sign(&claims).expect("signed");
    let status = targets(&set, &expired)
        .list_plans(list_plans())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the token has expired");

    // A valid token passes; ingest delivers to targets and assignments over https with its
    // service tokens.
    targets(&set, &admin)
        .list_plans(list_plans())
        .await
        .expect("an admin lists plans");
    let content = std::fs::read(duban_testkit::seed(SEED_DECOMPOSITION)).expect("the seed");
    let document = duban_proto::v1::ingest_service_client::IngestServiceClient::new(as_caller(
        &set,
        Service::Ingest,
        &admin,
    ))
    .max_encoding_message_size(64 * 1024 * 1024)
    .create_document(duban_proto::v1::CreateDocumentRequest {
        content,
        filename: SEED_DECOMPOSITION.to_string(),
        request_id: "seed-1".into(),
    })
    .await
    .expect("an admin ingests")
    .into_inner();
    delivered(&set, &admin, &document.name).await;

    // Revocation: assignments keeps the list, targets polls it (every second here).
    let (doomed, claims) = secrets
        .key
        .issue("units/1", Role::Reporter, "", Duration::from_secs(3600))
        .expect("a token");
    targets(&set, &doomed)
        .list_plans(list_plans())
        .await
        .expect("valid before revocation");
    let denied = TokenServiceClient::new(as_caller(&set, Service::Assignments, &doomed))
        .revoke_token(RevokeTokenRequest {
            token_id: claims.jti.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "only admins revoke");
    TokenServiceClient::new(as_caller(&set, Service::Assignments, &admin))
        .revoke_token(RevokeTokenRequest {
            token_id: claims.jti.clone(),
            reason: "lost laptop".into(),
            request_id: "revoke-1".into(),
            ..Default::default()
        })
        .await
        .expect("an admin revokes");
    let status = AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, &doomed))
        .list_units(ListUnitsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "at once where it is kept"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match targets(&set, &doomed).list_plans(list_plans()).await {
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated);
                assert_eq!(status.message(), "the token has been revoked");
                break;
            }
            Ok(_) => assert!(
                tokio::time::Instant::now() < deadline,
                "targets never learned of the revocation"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Health stays open for probes.
    assert_eq!(
        duban_cli::stack::health_over(
            &set.stack.url(Service::Targets),
            "duban.v1.TargetsService",
            set.stack.client_tls().expect("TLS settings"),
        )
        .await,
        Some(tonic_health::pb::health_check_response::ServingStatus::Serving)
    );
    set.stop().await;
}

#[tokio::test]
async fn roles_and_scopes_are_enforced() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin_wuchang = secrets.token("admin-wc", Role::Admin, "武昌区");
    let admin_jiangan = secrets.token("admin-ja", Role::Admin, "江岸区");

    // Plans of two districts, both decomposing the city's report.
    let city_report = "武汉市2025年《政府工作报告》";
    let wuchang = targets(&set, &admin_wuchang)
        .create_plan(plan("武昌区人民政府办公室", "市", city_report))
        .await
        .expect("an admin creates a plan")
        .into_inner();
    let jiangan = targets(&set, &admin_jiangan)
        .create_plan(plan("江岸区人民政府办公室", "市", city_report))
        .await
        .expect("an admin creates a plan")
        .into_inner();

    // A district's supervisor reads its own plan but not another district's, even by id.
    let supervisor_wc = secrets.token("督查室", Role::Supervisor, "武昌区");
    targets(&set, &supervisor_wc)
        .get_plan(GetPlanRequest {
            name: wuchang.name.clone(),
        })
        .await
        .expect("own government's plan");
    let status = targets(&set, &supervisor_wc)
        .get_plan(GetPlanRequest {
            name: jiangan.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("江岸区"), "{}", status.message());
    let listed = targets(&set, &supervisor_wc)
        .list_plans(list_plans())
        .await
        .expect("ListPlans")
        .into_inner()
        .plans;
    assert_eq!(
        listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        [wuchang.name.as_str()]
    );

    // The city's supervisor reads both districts' decompositions of the city's report …
    let supervisor_city = secrets.token("市督查室", Role::Supervisor, "武汉市");
    for plan in [&wuchang, &jiangan] {
        targets(&set, &supervisor_city)
            .get_plan(GetPlanRequest {
                name: plan.name.clone(),
            })
            .await
            .expect("a city supervisor reads its districts' decompositions");
    }
    // … but does not change them, and an admin changes only its own government's.
    let update = |plan: &Plan| UpdateTaskRequest {
        task: Some(Task {
            name: format!("{}/tasks/1", plan.name),
            deadline: "2025年6月底前".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["deadline".into()],
        }),
        request_id: String::new(),
    };
    let status = targets(&set, &supervisor_city)
        .update_task(update(&wuchang))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = targets(&set, &admin_jiangan)
        .update_task(update(&wuchang))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // Nor assigns its tasks or sets its reporting schedule.
    let status =
        AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, &admin_jiangan))
            .create_assignments(CreateAssignmentsRequest {
                task: format!("{}/tasks/1", wuchang.name),
                assignments: vec![AssignmentInput {
                    written_name: "区发改局".into(),
                    role: UnitRole::Lead as i32,
                    ..Default::default()
                }],
                request_id: String::new(),
            })
            .await
            .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    assert!(status.message().contains("武昌区"), "{}", status.message());
    let schedule =
        |admin: &str| AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, admin));
    let set_schedule = UpdateReportingScheduleRequest {
        schedule: Some(ReportingSchedule {
            name: format!("{}/reportingSchedule", wuchang.name),
            rule: "每季度结束后10日内报送".into(),
            year: 2025,
            ..Default::default()
        }),
        update_mask: None,
        request_id: String::new(),
        allow_missing: true,
    };
    let status = schedule(&admin_jiangan)
        .update_reporting_schedule(set_schedule.clone())
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    schedule(&admin_wuchang)
        .update_reporting_schedule(set_schedule)
        .await
        .expect("an admin sets its own government's schedule");

    // An admin cannot do a reporter's work; a reporter can.
    let assigned = assignment(&set, &admin_wuchang, &wuchang.name, "区发改局")
        .await
        .name;
    let status = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &admin_wuchang))
        .create_report(report(&assigned))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("role admin may not call"),
        "{}",
        status.message()
    );
    let reporter = secrets.token("units/1", Role::Reporter, "武昌区");
    let drafted = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &reporter))
        .create_report(report(&assigned))
        .await
        .expect("a reporter drafts")
        .into_inner();

    // A unit touches only its own reports: another unit cannot draft on this assignment or
    // sign this report; the unit's own head can.
    let other_reporter = secrets.token("units/2", Role::Reporter, "武昌区");
    let status = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &other_reporter))
        .create_report(report(&assigned))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    let other_head = secrets.token("units/2", Role::UnitHead, "武昌区");
    let status = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &other_head))
        .sign_report(sign(&drafted.name))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    let own_head = secrets.token("units/1", Role::UnitHead, "武昌区");
    let signed = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &own_head))
        .sign_report(sign(&drafted.name))
        .await
        .expect("the unit's own head signs")
        .into_inner();
    // The typed name and post stay as written; the credential says who signed.
    let signature = signed
        .signature
        .expect("a signed report carries its signature");
    assert_eq!(signature.signer.map(|s| s.name).as_deref(), Some("张明"));
    assert_eq!(signature.signed_by, "units/1@武昌区 (unit_head)");

    // Another government's supervisor cannot read the report by guessing its name.
    let supervisor_ja = secrets.token("督查室", Role::Supervisor, "江岸区");
    let status = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &supervisor_ja))
        .get_report(GetReportRequest {
            name: drafted.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    ReportingServiceClient::new(as_caller(&set, Service::Reporting, &supervisor_wc))
        .get_report(GetReportRequest {
            name: drafted.name.clone(),
        })
        .await
        .expect("its own government's supervisor reads it");

    // A unit reads its own ledger, not another unit's.
    let mut assignments =
        AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, &reporter));
    assignments
        .list_ledger(ListLedgerRequest {
            unit: "units/1".into(),
            ..Default::default()
        })
        .await
        .expect("own ledger");
    let status = assignments
        .list_ledger(ListLedgerRequest {
            unit: "units/2".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("units/2"), "{}", status.message());
    set.stop().await;
}

#[tokio::test]
async fn the_audit_trail_records_calls_and_reveals_tampering() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin-wc", Role::Admin, "武昌区");
    let reporter = secrets.token("units/1", Role::Reporter, "武昌区");
    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");

    for i in 0..3 {
        targets(&set, &admin)
            .create_plan(plan("武昌区人民政府办公室", "区", &format!("报告{i}")))
            .await
            .expect("CreatePlan");
    }
    // A refused mutation is recorded too.
    targets(&set, &reporter)
        .create_plan(plan("武昌区人民政府办公室", "区", "报告"))
        .await
        .unwrap_err();
    let assigned = assignment(&set, &admin, "plans/1", "区发改局").await.name;
    let created = ReportingServiceClient::new(as_caller(&set, Service::Reporting, &reporter))
        .create_report(report(&assigned))
        .await
        .expect("CreateReport")
        .into_inner();
    ReportingServiceClient::new(as_caller(&set, Service::Reporting, &supervisor))
        .get_report(GetReportRequest {
            name: created.name.clone(),
        })
        .await
        .expect("a supervisor reads a report");

    // Reporters may not read the trail; supervisors may.
    let status = AuditServiceClient::new(as_caller(&set, Service::Targets, &reporter))
        .list_audit_events(ListAuditEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let trail = AuditServiceClient::new(as_caller(&set, Service::Targets, &supervisor))
        .list_audit_events(ListAuditEventsRequest::default())
        .await
        .expect("ListAuditEvents")
        .into_inner();
    let codes: Vec<_> = trail
        .events
        .iter()
        .map(|e| (e.method.as_str(), e.code.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (
                "/duban.v1.TargetsService/CreatePlan",
                "OK",
                "admin-wc@武昌区"
            ),
            (
                "/duban.v1.TargetsService/CreatePlan",
                "OK",
                "admin-wc@武昌区"
            ),
            (
                "/duban.v1.TargetsService/CreatePlan",
                "OK",
                "admin-wc@武昌区"
            ),
            (
                "/duban.v1.TargetsService/CreatePlan",
                "PERMISSION_DENIED",
                "units/1@武昌区"
            ),
            (
                "/duban.v1.AuditService/ListAuditEvents",
                "PERMISSION_DENIED",
                "units/1@武昌区"
            ),
        ]
    );
    assert_eq!(trail.events[0].resource, "plans/1");
    assert_eq!(trail.events[0].request_sha256.len(), 32);
    let reporting = AuditServiceClient::new(as_caller(&set, Service::Reporting, &supervisor))
        .list_audit_events(ListAuditEventsRequest::default())
        .await
        .expect("ListAuditEvents")
        .into_inner();
    let reads: Vec<_> = reporting
        .events
        .iter()
        .map(|e| (e.method.as_str(), e.role.as_str(), e.resource.as_str()))
        .collect();
    assert_eq!(
        reads,
        [
            (
                "/duban.v1.ReportingService/CreateReport",
                "reporter",
                created.name.as_str()
            ),
            (
                "/duban.v1.ReportingService/GetReport",
                "supervisor",
                created.name.as_str()
            ),
        ]
    );

    // `duban audit verify`'s check: every trail intact. Whole chains are read by a reader of
    // the whole deployment (a government's reader sees only its own rows).
    let auditor = secrets.token("审计", Role::Supervisor, "");
    let tls = set.stack.client_tls().expect("TLS settings");
    let mut targets_head = None;
    for service in duban_cli::stack::ALL {
        let url = set.stack.url(service);
        let verified = verify(
            &url,
            channel(&url, &auditor, tls.clone()).expect("a channel"),
            None,
        )
        .await
        .expect("verify");
        assert!(verified.breaks.is_empty(), "{url}: {:?}", verified.breaks);
        if service == Service::Targets {
            targets_head = Some(verified.head);
        }
    }
    let targets_head = targets_head.expect("the targets trail was verified");

    // The trigger refuses changes, even from the database owner.
    let pool = sqlx::PgPool::connect(&set.database_url)
        .await
        .expect("the database");
    for statement in [
        "UPDATE targets.audit_log SET code = 'OK' WHERE seq = 4",
        "DELETE FROM targets.audit_log WHERE seq = 4",
        "TRUNCATE targets.audit_log",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    // Staged events are as protected until they are chained.
    sqlx::query(
        "INSERT INTO targets.audit_pending (at, actor, role, token_id, method, resource, code,
                                            request_sha256, response_sha256)
         VALUES (now(), 'x', '', '', 'm', '', 'OK', '', '')",
    )
    .execute(&pool)
    .await
    .expect("staging is an insert");
    for statement in [
        "UPDATE targets.audit_pending SET code = 'PERMISSION_DENIED'",
        "DELETE FROM targets.audit_pending",
        "TRUNCATE targets.audit_pending",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("leave only for the chain"),
            "{statement}: {err}"
        );
    }

    // With the trigger disabled by hand, an edit and a deletion are found and named.
    sqlx::raw_sql(
        "ALTER TABLE targets.audit_log DISABLE TRIGGER audit_log_append_only;
         UPDATE targets.audit_log SET code = 'OK' WHERE seq = 4;
         DELETE FROM targets.audit_log WHERE seq = 2;
         ALTER TABLE targets.audit_log ENABLE TRIGGER audit_log_append_only;",
    )
    .execute(&pool)
    .await
    .expect("tampering as the owner");
    let url = set.stack.url(Service::Targets);
    let verified = verify(
        &url,
        channel(&url, &auditor, tls.clone()).expect("a channel"),
        None,
    )
    .await
    .expect("verify");
    let found: Vec<_> = verified
        .breaks
        .iter()
        .map(|b| (b.seq, b.reason.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "rows 2..=2 are missing (deleted)"),
            (4, "its content does not match its row_hash (edited)"),
        ]
    );

    // Rows cut from the end leave a chain that verifies; the head kept from the earlier
    // verification reveals them.
    sqlx::raw_sql(&format!(
        "ALTER TABLE targets.audit_log DISABLE TRIGGER audit_log_append_only;
         DELETE FROM targets.audit_log WHERE seq >= {};
         ALTER TABLE targets.audit_log ENABLE TRIGGER audit_log_append_only;",
        targets_head.seq
    ))
    .execute(&pool)
    .await
    .expect("cutting the end as the owner");
    let unwitnessed = verify(
        &url,
        channel(&url, &auditor, tls.clone()).expect("a channel"),
        None,
    )
    .await
    .expect("verify");
    assert!(
        unwitnessed.breaks.iter().all(|b| b.seq < targets_head.seq),
        "without the head the cut goes unseen: {:?}",
        unwitnessed.breaks
    );
    let witnessed = verify(
        &url,
        channel(&url, &auditor, tls).expect("a channel"),
        Some(&targets_head),
    )
    .await
    .expect("verify");
    assert_eq!(
        witnessed.breaks.len(),
        unwitnessed.breaks.len() + 1,
        "{:?}",
        witnessed.breaks
    );
    let cut = witnessed.breaks.last().expect("the cut is named");
    assert_eq!(cut.seq, targets_head.seq);
    assert!(cut.reason.contains("cut from its end"), "{}", cut.reason);
    pool.close().await;
    set.stop().await;
}

/// A plan whose one task targets GDP growth of `target`% and, with `actual`, states the outcome
/// (recorded as an observation judged against the target).
fn plan_with_target(
    issuer: &str,
    level: &str,
    source_report: &str,
    target: f64,
    actual: Option<f64>,
) -> CreatePlanRequest {
    let growth = |value| Quantity {
        metric: "地区生产总值增长".into(),
        value,
        unit: "%".into(),
        comparator: Comparator::About as i32,
        ..Default::default()
    };
    let mut request = plan(issuer, level, source_report);
    request.tasks[0].text = format!("地区生产总值增长{target}%左右");
    request.tasks[0].indicators = vec![Indicator {
        quantity: Some(growth(target)),
        ..Default::default()
    }];
    request.tasks[0].actuals = actual.into_iter().map(growth).collect();
    request
}

/// The first indicator of the first task of `plan` (read as `admin`).
async fn first_indicator(set: &TestSet, admin: &str, plan: &Plan) -> String {
    targets(set, admin)
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .expect("the plan's tasks")
        .into_inner()
        .tasks
        .remove(0)
        .indicators
        .remove(0)
        .name
}

fn belongs_to(name: &str, plan: &Plan) -> bool {
    name.starts_with(&format!("{}/", plan.name))
}

#[tokio::test]
async fn lineage_observations_and_scorecard_stay_within_the_government() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let city_report = "武汉市2025年《政府工作报告》";
    let mut created = Vec::new();
    for request in [
        plan_with_target("武汉市人民政府办公厅", "市", "", 6.0, Some(6.2)),
        plan_with_target("武昌区人民政府办公室", "区", city_report, 5.5, Some(5.8)),
        plan_with_target("江岸区人民政府办公室", "区", city_report, 5.0, None),
    ] {
        created.push(
            targets(&set, &admin)
                .create_plan(request)
                .await
                .expect("an admin creates a plan")
                .into_inner(),
        );
    }
    let [city, wuchang, jiangan] = &created[..] else {
        unreachable!("three plans were created")
    };
    let wuchang_gdp = first_indicator(&set, &admin, wuchang).await;
    let jiangan_gdp = first_indicator(&set, &admin, jiangan).await;
    let city_gdp = first_indicator(&set, &admin, city).await;
    let district = secrets.token("督查室", Role::Supervisor, "武昌区");
    let city_supervisor = secrets.token("市督查室", Role::Supervisor, "武汉市");

    // A district's lineage shows its own level only; the city's shows the city and the
    // districts' decompositions of its report.
    let lineage = |token: String, name: String| {
        let set = &set;
        async move {
            targets(set, &token)
                .get_indicator_lineage(GetIndicatorLineageRequest { name })
                .await
        }
    };
    let own = lineage(district.clone(), wuchang_gdp.clone())
        .await
        .expect("its own indicator's lineage")
        .into_inner();
    let plans: Vec<_> = own.entries.iter().map(|e| e.plan.as_str()).collect();
    assert_eq!(
        plans,
        [wuchang.name.as_str()],
        "the city's level is omitted"
    );
    assert!(own.entries[0].weaker, "5.5% is below the city's 6%");
    let whole = lineage(city_supervisor.clone(), city_gdp.clone())
        .await
        .expect("the city's lineage")
        .into_inner();
    let plans: Vec<_> = whole.entries.iter().map(|e| e.plan.as_str()).collect();
    assert_eq!(plans.len(), 3, "{plans:?}");
    assert_eq!(plans[0], city.name);
    let status = lineage(district.clone(), jiangan_gdp.clone())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("江岸区"), "{}", status.message());

    // Observations: another government's are left out of lists and refused by parent.
    let observations = |token: String, parent: &str| {
        let set = &set;
        let parent = parent.to_string();
        async move {
            targets(set, &token)
                .list_observations(ListObservationsRequest {
                    parent,
                    ..Default::default()
                })
                .await
        }
    };
    let listed = observations(district.clone(), "plans/-/tasks/-/indicators/-")
        .await
        .expect("ListObservations")
        .into_inner()
        .observations;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(belongs_to(&listed[0].name, wuchang), "{}", listed[0].name);
    let everyone = observations(admin.clone(), "plans/-/tasks/-/indicators/-")
        .await
        .expect("ListObservations")
        .into_inner()
        .observations;
    assert_eq!(everyone.len(), 2, "the city's and 武昌区's outcomes");
    let status = observations(district.clone(), &city_gdp).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Weaker targets pair two levels: the city sees both districts', the district neither
    // (the level above is not its to read).
    let weaker = |token: String| {
        let set = &set;
        async move {
            targets(set, &token)
                .list_weaker_indicators(ListWeakerIndicatorsRequest {
                    year: 2025,
                    level: String::new(),
                })
                .await
                .expect("ListWeakerIndicators")
                .into_inner()
                .indicators
        }
    };
    let pairs = weaker(city_supervisor.clone()).await;
    let mut lower: Vec<_> = pairs
        .iter()
        .filter_map(|p| p.lower.as_ref().map(|l| l.plan.clone()))
        .collect();
    lower.sort();
    assert_eq!(lower, [wuchang.name.as_str(), jiangan.name.as_str()]);
    assert!(weaker(district.clone()).await.is_empty());

    // The scorecard counts only the caller's plans, outcomes and missing outcomes alike.
    let scorecard = |token: String| {
        let set = &set;
        async move {
            targets(set, &token)
                .get_scorecard(GetScorecardRequest { year: 2025 })
                .await
                .expect("GetScorecard")
                .into_inner()
        }
    };
    let card = scorecard(district).await;
    let plans: Vec<_> = card.entries.iter().map(|e| e.plan.as_str()).collect();
    assert_eq!(plans, [wuchang.name.as_str()]);
    assert_eq!((card.met, card.missed, card.without_outcome), (1, 0, 0));
    let card = scorecard(admin).await;
    assert_eq!(card.entries.len(), 2);
    assert_eq!(
        (card.met, card.without_outcome),
        (2, 1),
        "江岸区 states none"
    );
    set.stop().await;
}

#[tokio::test]
async fn assignments_ledgers_and_loads_stay_within_the_government() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let mut created = Vec::new();
    for issuer in ["武昌区人民政府办公室", "江岸区人民政府办公室"] {
        created.push(
            targets(&set, &admin)
                .create_plan(plan(issuer, "区", "2025年区《政府工作报告》"))
                .await
                .expect("an admin creates a plan")
                .into_inner(),
        );
    }
    let [wuchang, jiangan] = &created[..] else {
        unreachable!("two plans were created")
    };
    // One registry unit answers in both districts' plans.
    let own = assignment(&set, &admin, &wuchang.name, "区发改局")
        .await
        .name;
    let foreign = assignment(&set, &admin, &jiangan.name, "区发改局")
        .await
        .name;
    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");
    let client =
        |token: &str| AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, token));

    client(&supervisor)
        .get_assignment(GetAssignmentRequest { name: own.clone() })
        .await
        .expect("its own government's assignment");
    let status = client(&supervisor)
        .get_assignment(GetAssignmentRequest {
            name: foreign.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("江岸区"), "{}", status.message());
    let listed = client(&supervisor)
        .list_assignments(ListAssignmentsRequest::default())
        .await
        .expect("ListAssignments")
        .into_inner()
        .assignments;
    assert_eq!(
        listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        [own.as_str()]
    );

    // The unit's ledger, read by its own reporter or by the district's supervisor, holds only
    // the district's items; a deployment-wide admin sees both.
    let ledger = |token: String| {
        let client = client(&token);
        async move {
            let mut client = client;
            client
                .list_ledger(ListLedgerRequest {
                    unit: "区发改局".into(),
                    ..Default::default()
                })
                .await
                .expect("ListLedger")
                .into_inner()
                .entries
                .into_iter()
                .filter_map(|e| e.assignment.map(|a| a.name))
                .collect::<Vec<_>>()
        }
    };
    let reporter = secrets.token("武昌区发展和改革局", Role::Reporter, "武昌区");
    assert_eq!(ledger(reporter).await, [own.as_str()]);
    assert_eq!(ledger(supervisor.clone()).await, [own.as_str()]);
    assert_eq!(
        ledger(admin.clone()).await,
        [own.as_str(), foreign.as_str()]
    );

    // Loads count the district's plans only; another district's plan is refused by name.
    let tasks_of = |loads: Vec<duban_proto::v1::UnitLoad>| {
        loads
            .into_iter()
            .find(|l| l.unit_display_name == "武昌区发展和改革局")
            .map(|l| l.tasks)
    };
    let loads = client(&supervisor)
        .list_unit_loads(ListUnitLoadsRequest::default())
        .await
        .expect("ListUnitLoads")
        .into_inner()
        .loads;
    assert_eq!(tasks_of(loads), Some(1));
    let loads = client(&admin)
        .list_unit_loads(ListUnitLoadsRequest::default())
        .await
        .expect("ListUnitLoads")
        .into_inner()
        .loads;
    assert_eq!(tasks_of(loads), Some(2));
    let status = client(&supervisor)
        .list_unit_loads(ListUnitLoadsRequest {
            plan: jiangan.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let schedule = format!("{}/reportingSchedule", jiangan.name);
    client(&admin)
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: schedule.clone(),
                rule: "每季度第1个月10日前报送".into(),
                year: 2025,
                ..Default::default()
            }),
            allow_missing: true,
            ..Default::default()
        })
        .await
        .expect("an admin sets a schedule");
    let status = client(&supervisor)
        .get_reporting_schedule(GetReportingScheduleRequest { name: schedule })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // The unit registry is shared reference data: open to every government.
    let units = client(&supervisor)
        .list_units(ListUnitsRequest::default())
        .await
        .expect("ListUnits")
        .into_inner()
        .units;
    assert!(units.iter().any(|u| u.display_name == "武昌区发展和改革局"));
    set.stop().await;
}

/// A document kept as failed (over its extraction budget) names no issuer, since it was not
/// read: it is the government's of who sent it, as a read one naming none is, so its sender
/// sees it failed and another government does not.
#[tokio::test]
async fn a_failed_document_is_its_senders_government() {
    let secrets = secrets();
    let mut config = StackConfig::ephemeral(&fresh_database().await);
    config.security = secrets.config();
    config.ingest_extract_budget_ms = 1;
    let set = TestSet::start_with(config).await;
    let ingest = |token: &str| IngestServiceClient::new(as_caller(&set, Service::Ingest, token));
    let seed = std::fs::read_to_string(duban_testkit::seed(SEED_DECOMPOSITION)).expect("the seed");
    let wuchang = secrets.token("admin-wc", Role::Admin, "武昌区");
    let status = ingest(&wuchang)
        .create_document(CreateDocumentRequest {
            content: seed.replace('\n', " ").repeat(16).into_bytes(),
            filename: "long.txt".into(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::ResourceExhausted,
        "{}",
        status.message()
    );
    let listed = |token: String| {
        let mut client = ingest(&token);
        async move {
            client
                .list_documents(ListDocumentsRequest {
                    filter: "delivery_state=FAILED".into(),
                    ..Default::default()
                })
                .await
                .expect("ListDocuments")
                .into_inner()
                .documents
        }
    };
    let own = listed(wuchang.clone()).await;
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].issuer, "武昌区");
    let jiangan = secrets.token("admin-ja", Role::Admin, "江岸区");
    assert!(listed(jiangan).await.is_empty());
    set.stop().await;
}

#[tokio::test]
async fn documents_are_read_within_the_government() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let ingest = |token: &str| {
        IngestServiceClient::new(as_caller(&set, Service::Ingest, token))
            .max_encoding_message_size(64 * 1024 * 1024)
    };
    let seed = std::fs::read_to_string(duban_testkit::seed(SEED_DECOMPOSITION)).expect("the seed");
    // The same notice as 江岸区's, its city attachment decomposing 武汉市's report by name.
    let jiangan_notice = seed
        .replace("武昌区人民政府办公室", "江岸区人民政府办公室")
        .replace(
            "2025年市《政府工作报告》目标任务(武昌区)",
            "2025年《武汉市政府工作报告》目标任务(江岸区)",
        );
    let mut documents = Vec::new();
    for (filename, content) in [
        ("wuchang.txt", seed),
        ("jiangan.txt", jiangan_notice.clone()),
    ] {
        documents.push(
            ingest(&admin)
                .create_document(CreateDocumentRequest {
                    content: content.into_bytes(),
                    filename: filename.into(),
                    request_id: String::new(),
                })
                .await
                .expect("an admin ingests")
                .into_inner()
                .name,
        );
    }
    let [wuchang, jiangan] = &documents[..] else {
        unreachable!("two documents were ingested")
    };
    // A district's admin ingests its own government's documents only: 江岸区's notice is not
    // for 武昌区's admin to turn into plans, and nothing of it is stored.
    let admin_wuchang = secrets.token("admin-wc", Role::Admin, "武昌区");
    let status = ingest(&admin_wuchang)
        .create_document(CreateDocumentRequest {
            content: jiangan_notice.clone().into_bytes(),
            filename: "jiangan-again.txt".into(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    assert!(status.message().contains("江岸区"), "{}", status.message());
    let stored = ingest(&admin)
        .list_documents(ListDocumentsRequest::default())
        .await
        .expect("ListDocuments")
        .into_inner()
        .documents;
    assert_eq!(stored.len(), 2, "the refused document was not stored");
    let listed = |token: String| {
        let mut client = ingest(&token);
        async move {
            client
                .list_documents(ListDocumentsRequest::default())
                .await
                .expect("ListDocuments")
                .into_inner()
                .documents
                .into_iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
        }
    };
    let get = |token: String, name: String| {
        let mut client = ingest(&token);
        async move { client.get_document(GetDocumentRequest { name }).await }
    };

    let district = secrets.token("督查室", Role::Supervisor, "武昌区");
    get(district.clone(), wuchang.clone())
        .await
        .expect("its own government's document");
    let status = get(district.clone(), jiangan.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("江岸区人民政府办公室 (江岸区)"),
        "{}",
        status.message()
    );
    assert_eq!(listed(district).await, [wuchang.as_str()]);

    // The city's supervisor reads both notices decomposing the city's report: 江岸区's names
    // 武汉市, and 武昌区's "2025年市《政府工作报告》" is 武汉市's, since the notice signs as
    // 武汉市武昌区人民政府办公室. Another city's supervisor reads neither.
    let city = secrets.token("市督查室", Role::Supervisor, "武汉市");
    assert_eq!(
        listed(city.clone()).await,
        [wuchang.as_str(), jiangan.as_str()]
    );
    get(city.clone(), wuchang.clone())
        .await
        .expect("the city reads its district's decomposition of the city's report");
    let other_city = secrets.token("市督查室", Role::Supervisor, "孝感市");
    assert!(listed(other_city.clone()).await.is_empty());
    let status = get(other_city, wuchang.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        listed(admin.clone()).await,
        [wuchang.as_str(), jiangan.as_str()]
    );
    // The plans say so too: the city attachment's source report is written out.
    delivered(&set, &admin, wuchang).await;
    let readable = targets(&set, &city)
        .list_plans(list_plans())
        .await
        .expect("the city lists plans")
        .into_inner()
        .plans;
    let reports: Vec<&str> = readable
        .iter()
        .filter(|p| p.source_document == *wuchang)
        .map(|p| p.source_report.as_str())
        .collect();
    assert_eq!(reports, ["2025年武汉市《政府工作报告》"], "{readable:?}");
    set.stop().await;
}

/// Waits until ingest has delivered `document`'s plans (a minute at most).
async fn delivered(set: &TestSet, token: &str, document: &str) {
    let mut ingest = IngestServiceClient::new(as_caller(set, Service::Ingest, token));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let doc = ingest
            .get_document(GetDocumentRequest {
                name: document.to_string(),
            })
            .await
            .expect("GetDocument")
            .into_inner();
        if doc.delivery_state == DeliveryState::Delivered as i32 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{document} not delivered: {:?} {}",
            doc.delivery_state,
            doc.delivery_error
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_document_without_an_issuer_belongs_to_the_government_that_ingests_it() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let ingest = |token: &str| {
        IngestServiceClient::new(as_caller(&set, Service::Ingest, token))
            .max_encoding_message_size(64 * 1024 * 1024)
    };
    // A work report that states no issuer.
    let report = std::fs::read(duban_testkit::seed("004_19ca00cc8670af50.txt")).expect("the seed");
    let create = |filename: &str| CreateDocumentRequest {
        content: report.clone(),
        filename: filename.into(),
        request_id: String::new(),
    };
    let admin_wuchang = secrets.token("admin-wc", Role::Admin, "武昌区");
    let document = ingest(&admin_wuchang)
        .create_document(create("report.txt"))
        .await
        .expect("a district's admin ingests a report that names no issuer")
        .into_inner();
    assert_eq!(document.issuer, "武昌区");
    assert!(
        document
            .warnings
            .iter()
            .any(|w| w.contains("attributed to 武昌区")),
        "{:?}",
        document.warnings
    );
    delivered(&set, &admin_wuchang, &document.name).await;
    let own = targets(&set, &secrets.token("督查室", Role::Supervisor, "武昌区"))
        .list_plans(list_plans())
        .await
        .expect("the district's supervisor lists plans")
        .into_inner()
        .plans;
    assert!(
        own.iter().any(|p| p.source_document == document.name),
        "the district reads back the plans it ingested: {own:?}"
    );

    // The same bytes from another government answer with nothing of 武昌区's.
    let status = ingest(&secrets.token("admin-dxh", Role::Admin, "东西湖区"))
        .create_document(create("again.txt"))
        .await
        .unwrap_err();
    assert_denied(&status, "was issued by 武昌区 (武昌区)");
    assert!(
        status.message().contains("of 东西湖区 may not read it"),
        "{}",
        status.message()
    );
    let others = targets(&set, &secrets.token("督查室", Role::Supervisor, "东西湖区"))
        .list_plans(list_plans())
        .await
        .expect("another district's supervisor lists plans")
        .into_inner()
        .plans;
    assert!(others.is_empty(), "{others:?}");
    set.stop().await;
}

fn reporting(set: &TestSet, token: &str) -> ReportingServiceClient<Authed> {
    ReportingServiceClient::new(as_caller(set, Service::Reporting, token))
}

/// Plans of 武昌区 and 江岸区, in that order, both decomposing `source_report`.
async fn district_plans(set: &TestSet, admin: &str, source_report: &str) -> (Plan, Plan) {
    let mut created = Vec::new();
    for issuer in ["武昌区人民政府办公室", "江岸区人民政府办公室"] {
        created.push(
            targets(set, admin)
                .create_plan(plan(issuer, "区", source_report))
                .await
                .expect("an admin creates a plan")
                .into_inner(),
        );
    }
    let jiangan = created.pop().expect("two plans");
    let wuchang = created.pop().expect("two plans");
    (wuchang, jiangan)
}

/// A 2025Q2 report on `assignment`, drafted by the holder of `token`.
async fn draft(set: &TestSet, token: &str, assignment: &str) -> Report {
    reporting(set, token)
        .create_report(report(assignment))
        .await
        .expect("a reporter drafts on its own unit's assignment")
        .into_inner()
}

fn extension(assignment: &str) -> CreateExtensionRequest {
    CreateExtensionRequest {
        extension: Some(Extension {
            assignment: assignment.to_string(),
            period: "2025Q2".into(),
            requested_due_date: "2025-08-10".into(),
            reason: "项目资金未到位".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn request_extension(set: &TestSet, token: &str, assignment: &str) -> String {
    reporting(set, token)
        .create_extension(extension(assignment))
        .await
        .expect("a unit asks for more time on its own assignment")
        .into_inner()
        .name
}

fn office() -> Actor {
    Actor {
        name: "李华".into(),
        role: "督查室主任".into(),
    }
}

fn decide(name: &str) -> DecideExtensionRequest {
    DecideExtensionRequest {
        name: name.to_string(),
        approve: true,
        decider: Some(office()),
        reason: "同意".into(),
        request_id: String::new(),
    }
}

fn settings(plan: &Plan) -> UpdateSupervisionSettingsRequest {
    UpdateSupervisionSettingsRequest {
        settings: Some(SupervisionSettings {
            name: format!("{}/supervisionSettings", plan.name),
            red_after_overdue_days: 5,
            red_after_behind_periods: 1,
            pace_tolerance_percent: 10,
        }),
        request_id: String::new(),
    }
}

fn bulletin(plan: &Plan) -> GetBulletinRequest {
    GetBulletinRequest {
        parent: plan.name.clone(),
        period: "2025Q2".into(),
        format: BulletinFormat::Markdown as i32,
        ..Default::default()
    }
}

/// The names of the reports the holder of `token` lists, every page followed.
async fn listed_reports(set: &TestSet, token: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reporting(set, token)
            .list_reports(ListReportsRequest {
                page_token,
                ..Default::default()
            })
            .await
            .expect("ListReports")
            .into_inner();
        names.extend(page.reports.into_iter().map(|r| r.name));
        if page.next_page_token.is_empty() {
            return names;
        }
        page_token = page.next_page_token;
    }
}

async fn listed_extensions(set: &TestSet, token: &str) -> Vec<String> {
    reporting(set, token)
        .list_extensions(ListExtensionsRequest::default())
        .await
        .expect("ListExtensions")
        .into_inner()
        .extensions
        .into_iter()
        .map(|e| e.name)
        .collect()
}

fn assert_denied(status: &tonic::Status, says: &str) {
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    assert!(status.message().contains(says), "{}", status.message());
}

#[tokio::test]
async fn units_see_only_their_own_reports_within_the_government() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let (wuchang, jiangan) = district_plans(&set, &admin, "2025年区《政府工作报告》").await;
    // One registry unit, 区发改局, answers in both districts' plans; 区财政局 in 武昌区's too.
    let own = assignment(&set, &admin, &wuchang.name, "区发改局").await;
    let other = assignment(&set, &admin, &wuchang.name, "区财政局").await;
    let abroad = assignment(&set, &admin, &jiangan.name, "区发改局").await;
    assert_eq!(own.unit, abroad.unit);
    let reporter = secrets.token(&own.unit, Role::Reporter, "武昌区");
    let other_reporter = secrets.token(&other.unit, Role::Reporter, "武昌区");
    let jiangan_reporter = secrets.token(&abroad.unit, Role::Reporter, "江岸区");
    let mine = draft(&set, &reporter, &own.name).await.name;
    let theirs = draft(&set, &other_reporter, &other.name).await.name;
    let jiangan_report = draft(&set, &jiangan_reporter, &abroad.name).await.name;

    // A unit lists its own reports of its own government only, whichever of its names its
    // token carries; the district's supervisor lists both units'.
    assert_eq!(listed_reports(&set, &reporter).await, [mine.as_str()]);
    let head = secrets.token(&own.unit_display_name, Role::UnitHead, "武昌区");
    assert_eq!(listed_reports(&set, &head).await, [mine.as_str()]);
    assert_eq!(
        listed_reports(&set, &jiangan_reporter).await,
        [jiangan_report.as_str()]
    );
    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");
    assert_eq!(
        listed_reports(&set, &supervisor).await,
        [mine.as_str(), theirs.as_str()]
    );
    // The same unit working for another government does not reach the report by name.
    let status = reporting(&set, &jiangan_reporter)
        .get_report(GetReportRequest { name: mine.clone() })
        .await
        .unwrap_err();
    assert_denied(&status, "of 武昌区; a reporter of 江岸区 may not read it");

    // Versions and evidence are the unit's own too.
    let evidence = reporting(&set, &reporter)
        .create_evidence(CreateEvidenceRequest {
            parent: mine.clone(),
            evidence: Some(Evidence {
                filename: "台账.txt".into(),
                content: "新增市场主体1052户".as_bytes().to_vec(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a reporter attaches evidence to its own draft")
        .into_inner()
        .name;
    let get_evidence = GetEvidenceRequest {
        name: evidence.clone(),
    };
    reporting(&set, &head)
        .get_evidence(get_evidence.clone())
        .await
        .expect("the unit's head reads its evidence");
    let status = reporting(&set, &other_reporter)
        .get_evidence(get_evidence)
        .await
        .unwrap_err();
    assert_denied(&status, &format!("acts for {}, not for", other.unit));
    let versions = ListReportVersionsRequest {
        parent: mine.clone(),
        ..Default::default()
    };
    let own_versions = reporting(&set, &reporter)
        .list_report_versions(versions.clone())
        .await
        .expect("own report's versions")
        .into_inner()
        .versions;
    assert!(!own_versions.is_empty());
    let status = reporting(&set, &other_reporter)
        .list_report_versions(versions)
        .await
        .unwrap_err();
    assert_denied(&status, &format!("acts for {}, not for", other.unit));

    // Extensions: each unit lists its own requests, of its own government.
    let requested = request_extension(&set, &reporter, &own.name).await;
    let other_request = request_extension(&set, &other_reporter, &other.name).await;
    request_extension(&set, &jiangan_reporter, &abroad.name).await;
    assert_eq!(
        listed_extensions(&set, &reporter).await,
        [requested.as_str()]
    );
    assert_eq!(
        listed_extensions(&set, &supervisor).await,
        [requested.as_str(), other_request.as_str()]
    );
    set.stop().await;
}

#[tokio::test]
async fn supervisors_supervise_only_their_own_governments_plans() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let (wuchang, jiangan) = district_plans(&set, &admin, "2025年区《政府工作报告》").await;
    // 江岸区's report comes first, so the first page of one holds nothing for 武昌区.
    let abroad = assignment(&set, &admin, &jiangan.name, "区发改局").await;
    let own = assignment(&set, &admin, &wuchang.name, "区发改局").await;
    let jiangan_reporter = secrets.token(&abroad.unit, Role::Reporter, "江岸区");
    let jiangan_report = draft(&set, &jiangan_reporter, &abroad.name).await.name;
    let jiangan_extension = request_extension(&set, &jiangan_reporter, &abroad.name).await;
    let mine = draft(
        &set,
        &secrets.token(&own.unit, Role::Reporter, "武昌区"),
        &own.name,
    )
    .await
    .name;
    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");
    let mut client = reporting(&set, &supervisor);

    client
        .get_bulletin(bulletin(&wuchang))
        .await
        .expect("its own government's bulletin");
    // Whatever is asked of another district's plan is refused, saying whose plan it is.
    let parent = jiangan.name.clone();
    let period = "2025Q2".to_string();
    let refusals = [
        client.get_bulletin(bulletin(&jiangan)).await.map(|_| ()),
        client
            .list_lights(ListLightsRequest {
                parent: parent.clone(),
                period: period.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        client
            .get_aggregates(GetAggregatesRequest {
                parent: parent.clone(),
                period: period.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        client
            .list_overdue_items(ListOverdueItemsRequest {
                parent: parent.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        client
            .get_supervision_settings(GetSupervisionSettingsRequest {
                name: format!("{parent}/supervisionSettings"),
            })
            .await
            .map(|_| ()),
        client
            .update_supervision_settings(settings(&jiangan))
            .await
            .map(|_| ()),
        client
            .decide_extension(decide(&jiangan_extension))
            .await
            .map(|_| ()),
        client
            .get_report(GetReportRequest {
                name: jiangan_report.clone(),
            })
            .await
            .map(|_| ()),
    ];
    for refused in refusals {
        assert_denied(&refused.unwrap_err(), "江岸区; a supervisor of 武昌区");
    }
    // A plan that does not exist is not found rather than refused.
    let status = client
        .get_bulletin(GetBulletinRequest {
            parent: "plans/999".into(),
            ..bulletin(&wuchang)
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{}", status.message());

    // Lists leave 江岸区's out: the first page of one comes back empty, and its token leads on
    // to 武昌区's report.
    let first = client
        .list_reports(ListReportsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("ListReports")
        .into_inner();
    assert!(first.reports.is_empty(), "{:?}", first.reports);
    let second = client
        .list_reports(ListReportsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect("the next page")
        .into_inner();
    let names: Vec<_> = second.reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [mine.as_str()]);
    assert_eq!(listed_reports(&set, &supervisor).await, [mine.as_str()]);
    assert!(listed_extensions(&set, &supervisor).await.is_empty());
    let jiangan_supervisor = secrets.token("督查室", Role::Supervisor, "江岸区");
    assert_eq!(
        listed_extensions(&set, &jiangan_supervisor).await,
        [jiangan_extension.as_str()]
    );
    reporting(&set, &jiangan_supervisor)
        .decide_extension(decide(&jiangan_extension))
        .await
        .expect("江岸区's supervisor decides its own plan's extension");
    set.stop().await;
}

#[tokio::test]
async fn a_city_supervisor_reads_but_does_not_change_its_districts_decompositions() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let (district, _) = district_plans(&set, &admin, "武汉市2025年《政府工作报告》").await;
    let own = assignment(&set, &admin, &district.name, "区发改局").await;
    let reporter = secrets.token(&own.unit, Role::Reporter, "武昌区");
    let drafted = draft(&set, &reporter, &own.name).await.name;
    reporting(&set, &secrets.token(&own.unit, Role::UnitHead, "武昌区"))
        .sign_report(sign(&drafted))
        .await
        .expect("the unit's head signs");
    reporting(&set, &reporter)
        .submit_report(SubmitReportRequest {
            name: drafted.clone(),
            submitter: Some(Actor {
                name: "王芳".into(),
                role: "科员".into(),
            }),
            as_of: "2025-07-05".into(),
            request_id: String::new(),
        })
        .await
        .expect("the unit submits");
    let requested = request_extension(&set, &reporter, &own.name).await;

    // The city's supervisor reads the district's decomposition of the city's report …
    let city = secrets.token("市督查室", Role::Supervisor, "武汉市");
    let mut client = reporting(&set, &city);
    client
        .get_report(GetReportRequest {
            name: drafted.clone(),
        })
        .await
        .expect("a city supervisor reads a district's report");
    assert_eq!(listed_reports(&set, &city).await, [drafted.as_str()]);
    assert_eq!(listed_extensions(&set, &city).await, [requested.as_str()]);
    client
        .get_bulletin(bulletin(&district))
        .await
        .expect("and the district's bulletin");
    client
        .get_supervision_settings(GetSupervisionSettingsRequest {
            name: format!("{}/supervisionSettings", district.name),
        })
        .await
        .expect("and its supervision settings");

    // … but neither accepts its reports, decides its extensions nor changes its settings.
    let accept = AcceptReportRequest {
        name: drafted.clone(),
        reviewer: Some(office()),
        request_id: String::new(),
    };
    let refusals = [
        client.accept_report(accept.clone()).await.map(|_| ()),
        client
            .decide_extension(decide(&requested))
            .await
            .map(|_| ()),
        client
            .update_supervision_settings(settings(&district))
            .await
            .map(|_| ()),
    ];
    for refused in refusals {
        assert_denied(
            &refused.unwrap_err(),
            "a supervisor of 武汉市 may not change it",
        );
    }
    // The district's own supervisor does all three.
    let mut own_office = reporting(&set, &secrets.token("督查室", Role::Supervisor, "武昌区"));
    own_office
        .accept_report(accept)
        .await
        .expect("the district accepts");
    own_office
        .decide_extension(decide(&requested))
        .await
        .expect("the district decides");
    own_office
        .update_supervision_settings(settings(&district))
        .await
        .expect("the district sets its thresholds");
    set.stop().await;
}

/// The plans of the events the holder of `token` receives from the start, until the stream
/// falls silent.
async fn event_plans(set: &TestSet, token: &str) -> Vec<String> {
    let mut stream = reporting(set, token)
        .subscribe_events(SubscribeEventsRequest::default())
        .await
        .expect("SubscribeEvents")
        .into_inner();
    let mut plans = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(1500), stream.next()).await
    {
        plans.push(event.expect("an event").plan);
    }
    plans
}

#[tokio::test]
async fn events_reach_only_subscribers_who_may_read_their_plan() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let admin = secrets.token("admin", Role::Admin, "");
    let (wuchang, jiangan) = district_plans(&set, &admin, "2025年区《政府工作报告》").await;
    // 江岸区's report is signed first, so its event comes before 武昌区's.
    for (plan, government) in [(&jiangan, "江岸区"), (&wuchang, "武昌区")] {
        let assigned = assignment(&set, &admin, &plan.name, "区发改局").await;
        let reporter = secrets.token(&assigned.unit, Role::Reporter, government);
        let drafted = draft(&set, &reporter, &assigned.name).await.name;
        reporting(
            &set,
            &secrets.token(&assigned.unit, Role::UnitHead, government),
        )
        .sign_report(sign(&drafted))
        .await
        .expect("the unit's head signs");
    }

    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");
    let status = reporting(&set, &supervisor)
        .subscribe_events(SubscribeEventsRequest {
            after: 0,
            plan: jiangan.name.clone(),
        })
        .await
        .unwrap_err();
    assert_denied(
        &status,
        "belongs to 江岸区; a supervisor of 武昌区 may not read it",
    );
    assert_eq!(
        event_plans(&set, &supervisor).await,
        [wuchang.name.as_str()]
    );
    let province = secrets.token("省督查室", Role::Supervisor, "");
    assert_eq!(
        event_plans(&set, &province).await,
        [jiangan.name.as_str(), wuchang.name.as_str()]
    );
    set.stop().await;
}

/// A client certificate signed by `ca` naming `unit`, `role` and `government`.
fn client_certificate(
    ca: &CertifiedIssuer<'static, KeyPair>,
    unit: &str,
    role: &str,
    government: &str,
    serial: &[u8],
) -> TlsIdentity {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, unit);
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, role);
    params
        .distinguished_name
        .push(DnType::OrganizationName, government);
    params.serial_number = Some(SerialNumber::from_slice(serial));
    let key = KeyPair::generate().expect("a key");
    let cert = params.signed_by(&key, ca).expect("a client certificate");
    TlsIdentity::from_pem(cert.pem(), key.serialize_pem())
}

/// A channel to `service` presenting `certificate`, without a token.
fn with_certificate(
    set: &TestSet,
    secrets: &Secrets,
    service: Service,
    certificate: TlsIdentity,
) -> Channel {
    let ca = std::fs::read(secrets.dir.join("ca.pem")).expect("the CA");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(certificate);
    duban_kit::peer::channel(&set.stack.url(service), Duration::from_secs(10), Some(tls))
        .expect("a channel")
}

#[tokio::test]
async fn client_certificates_identify_callers() {
    let secrets = secrets();
    let mut config = StackConfig::ephemeral(&fresh_database().await);
    config.security = SecurityConfig {
        tls_client_ca: Some(secrets.dir.join("ca.pem")),
        ..secrets.config()
    };
    let set = TestSet::start_with(config).await;
    let admin = secrets.token("admin", Role::Admin, "");

    // The set's own clients present the services' certificate, which names no role.
    let status = set
        .targets
        .clone()
        .list_plans(list_plans())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("no role (OU)"),
        "{}",
        status.message()
    );

    // A token wins over the certificate; services still deliver to each other, presenting
    // their certificates and sending their service tokens.
    let wuchang = targets(&set, &admin)
        .create_plan(plan(
            "武昌区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect("an admin's token over mutual TLS")
        .into_inner();
    let jiangan = targets(&set, &admin)
        .create_plan(plan(
            "江岸区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect("an admin's token over mutual TLS")
        .into_inner();
    let content = std::fs::read(duban_testkit::seed(SEED_DECOMPOSITION)).expect("the seed");
    let document = IngestServiceClient::new(as_caller(&set, Service::Ingest, &admin))
        .max_encoding_message_size(64 * 1024 * 1024)
        .create_document(CreateDocumentRequest {
            content,
            filename: SEED_DECOMPOSITION.to_string(),
            request_id: String::new(),
        })
        .await
        .expect("an admin ingests")
        .into_inner();
    delivered(&set, &admin, &document.name).await;

    // A supervisor's certificate reads its government's plans, and only those.
    let supervisor = |service| {
        let certificate = client_certificate(
            &secrets.ca,
            "督查室",
            "supervisor",
            "武昌区",
            &[0x0a, 0x1b, 0x2c],
        );
        with_certificate(&set, &secrets, service, certificate)
    };
    let plans = TargetsServiceClient::new(supervisor(Service::Targets))
        .list_plans(list_plans())
        .await
        .expect("a supervisor's certificate lists plans")
        .into_inner()
        .plans;
    assert!(plans.iter().any(|p| p.name == wuchang.name));
    assert!(
        plans.iter().all(|p| p.issuer == "武昌区人民政府办公室"),
        "{plans:?}"
    );
    let status = TargetsServiceClient::new(supervisor(Service::Targets))
        .get_plan(GetPlanRequest {
            name: jiangan.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // A reporter's certificate may not call what only supervisors may, and the refusal is
    // recorded under the certificate's serial.
    let reporter = client_certificate(&secrets.ca, "units/1", "reporter", "武昌区", &[0x7a, 0x01]);
    let status = ReportingServiceClient::new(with_certificate(
        &set,
        &secrets,
        Service::Reporting,
        reporter,
    ))
    .get_bulletin(GetBulletinRequest {
        parent: wuchang.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("role reporter may not call"),
        "{}",
        status.message()
    );
    let trail = AuditServiceClient::new(as_caller(&set, Service::Reporting, &admin))
        .list_audit_events(ListAuditEventsRequest::default())
        .await
        .expect("ListAuditEvents")
        .into_inner()
        .events;
    let refused: Vec<_> = trail
        .iter()
        .map(|e| (e.actor.as_str(), e.token_id.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        refused,
        [("units/1@武昌区", "cert:7a01", "PERMISSION_DENIED")]
    );

    // Revoking the serial, written as openssl prints it, shuts the certificate out: at once
    // where the list is kept, after a poll elsewhere.
    TokenServiceClient::new(as_caller(&set, Service::Assignments, &admin))
        .revoke_token(RevokeTokenRequest {
            token_id: "cert:0A1B2C".into(),
            reason: "lost smart card".into(),
            ..Default::default()
        })
        .await
        .expect("an admin revokes a certificate");
    let status = AssignmentsServiceClient::new(supervisor(Service::Assignments))
        .list_units(ListUnitsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the client certificate has been revoked");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match TargetsServiceClient::new(supervisor(Service::Targets))
            .list_plans(list_plans())
            .await
        {
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated);
                break;
            }
            Ok(_) => assert!(
                tokio::time::Instant::now() < deadline,
                "targets never learned of the revocation"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A certificate from another CA does not get through the handshake.
    let mut other_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    other_params
        .distinguished_name
        .push(DnType::CommonName, "another deployment's CA");
    let other_ca =
        CertifiedIssuer::self_signed(other_params, KeyPair::generate().expect("a CA key"))
            .expect("another CA");
    let stranger = client_certificate(&other_ca, "督查室", "supervisor", "武昌区", &[0x01]);
    let status =
        TargetsServiceClient::new(with_certificate(&set, &secrets, Service::Targets, stranger))
            .list_plans(list_plans())
            .await
            .unwrap_err();
    // The server's TLS stack refuses the chain during the handshake, before any gRPC status.
    assert!(
        format!("{status:?}").contains("received fatal alert: UnknownCA"),
        "{status:?}"
    );
    set.stop().await;
}

/// Issue 24's four holes: one government's admin acting on another's plans, observations,
/// tokens and units. Each is refused; the same act by the government that owns it is not.
#[tokio::test]
async fn one_government_cannot_write_anothers_plans_observations_tokens_or_units() {
    use duban_proto::v1::{CreateObservationRequest, MergeUnitsRequest, Observation};

    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let wuchang = secrets.token("admin", Role::Admin, "武昌区");
    let dongxihu = secrets.token("admin", Role::Admin, "东西湖区");
    fn denied<T: std::fmt::Debug>(result: Result<T, tonic::Status>, what: &str) -> tonic::Status {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
        status
    }

    // 1. CreatePlan: the issuer says whose a plan is.
    let status = denied(
        targets(&set, &dongxihu)
            .create_plan(plan(
                "武昌区人民政府办公室",
                "区",
                "2025年区《政府工作报告》",
            ))
            .await,
        "东西湖区 creating a plan issued by 武昌区",
    );
    assert!(status.message().contains("plan.issuer"), "{status:?}");
    denied(
        targets(&set, &dongxihu)
            .create_plan(plan("", "区", "2025年区《政府工作报告》"))
            .await,
        "a government's plan without an issuer",
    );
    targets(&set, &dongxihu)
        .create_plan(plan(
            "东西湖区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect("东西湖区 creates its own plan");
    let own = targets(&set, &wuchang)
        .create_plan(plan_with_target(
            "武昌区人民政府办公室",
            "区",
            "",
            5.5,
            None,
        ))
        .await
        .expect("武昌区 creates its own plan")
        .into_inner();

    // 2. CreateObservation belongs to the plan of its indicator.
    let indicator = first_indicator(&set, &wuchang, &own).await;
    let observation = || CreateObservationRequest {
        parent: indicator.clone(),
        observation: Some(Observation {
            quantity: Some(Quantity {
                value: 1200.0,
                unit: "户".into(),
                ..Default::default()
            }),
            as_of: "2025-12-31".into(),
            source: "documents/1".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    denied(
        targets(&set, &dongxihu)
            .create_observation(observation())
            .await,
        "东西湖区 recording an outcome of 武昌区",
    );
    targets(&set, &wuchang)
        .create_observation(observation())
        .await
        .expect("武昌区 records its own outcome");

    // 3. RevokeToken: a token id names its government.
    let (_, supervisor) = secrets
        .key
        .issue(
            "督查室",
            Role::Supervisor,
            "武昌区",
            Duration::from_secs(3600),
        )
        .expect("a token");
    assert!(supervisor.jti.starts_with("武昌区/"), "{}", supervisor.jti);
    let revoke = |token_id: &str| RevokeTokenRequest {
        token_id: token_id.to_string(),
        ..Default::default()
    };
    let tokens =
        |token: &str| TokenServiceClient::new(as_caller(&set, Service::Assignments, token));
    denied(
        tokens(&dongxihu)
            .revoke_token(revoke(&supervisor.jti))
            .await,
        "东西湖区 revoking a 武昌区 token",
    );
    denied(
        tokens(&dongxihu).revoke_token(revoke("cert:0a1b")).await,
        "a government's admin revoking a certificate",
    );
    tokens(&wuchang)
        .revoke_token(revoke(&supervisor.jti))
        .await
        .expect("武昌区 revokes its own token");

    // 4. MergeUnits moves every assignment of the source unit.
    let moved = assignment(&set, &wuchang, &own.name, "区发改局").await.unit;
    let kept = assignment(&set, &wuchang, &own.name, "区财政局").await.unit;
    // two reviewed units: the scope is what is checked here
    let merge = || MergeUnitsRequest {
        source: moved.clone(),
        target: kept.clone(),
        request_id: String::new(),
        merge_reviewed: true,
    };
    let units =
        |token: &str| AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, token));
    let status = denied(
        units(&dongxihu).merge_units(merge()).await,
        "东西湖区 merging a unit that answers in 武昌区's plan",
    );
    assert!(status.message().contains(&own.name), "{status:?}");
    units(&wuchang)
        .merge_units(merge())
        .await
        .expect("武昌区 merges a unit whose assignments are all its own");
    set.stop().await;
}

/// Issue 24, hole 5: a government reads only its own callers' rows of an audit trail, and no
/// token id but its own; a reader of the whole deployment reads everything.
#[tokio::test]
async fn audit_trails_are_read_within_the_government() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let (wuchang, wuchang_claims) = secrets
        .key
        .issue("admin", Role::Admin, "武昌区", Duration::from_secs(3600))
        .expect("a token");
    let dongxihu = secrets.token("admin", Role::Admin, "东西湖区");
    targets(&set, &wuchang)
        .create_plan(plan(
            "武昌区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect("武昌区 creates its own plan");
    targets(&set, &dongxihu)
        .create_plan(plan(
            "武昌区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect_err("东西湖区 may not");
    let trail = |token: &str| {
        let mut client = AuditServiceClient::new(as_caller(&set, Service::Targets, token));
        async move {
            client
                .list_audit_events(ListAuditEventsRequest {
                    after_seq: 0,
                    page_size: 1000,
                })
                .await
                .expect("ListAuditEvents")
                .into_inner()
                .events
        }
    };

    let theirs = trail(&dongxihu).await;
    assert!(!theirs.is_empty(), "東西湖区 sees its own refused call");
    assert!(
        theirs.iter().all(|e| e.actor.ends_with("@东西湖区")),
        "{theirs:?}"
    );
    let supervisor = secrets.token("督查室", Role::Supervisor, "武昌区");
    let ours = trail(&supervisor).await;
    let created: Vec<_> = ours
        .iter()
        .filter(|e| e.method.ends_with("/CreatePlan"))
        .collect();
    assert_eq!(created.len(), 1, "{ours:?}");
    assert!(created[0].actor.ends_with("@武昌区"));
    assert!(
        created[0].token_id.starts_with("sha256:") && created[0].token_id != wuchang_claims.jti,
        "another caller's token id is masked: {}",
        created[0].token_id
    );
    let own = trail(&wuchang).await;
    assert!(
        own.iter().any(|e| e.token_id == wuchang_claims.jti),
        "a caller sees its own token id"
    );
    let everything = trail(&secrets.token("督查室", Role::Supervisor, "")).await;
    assert!(everything.len() >= ours.len() + theirs.len());
    assert!(everything.iter().any(|e| e.token_id == wuchang_claims.jti));
    set.stop().await;
}

/// Issue 24's open questions on assignments and schedules, decided: permission is checked
/// before existence (a schedule of another government's plan is PERMISSION_DENIED whether or
/// not it exists), a schedule of a plan nobody knows is NOT_FOUND, and a unit's reporter reads
/// only its own unit's assignments, as its ledger.
#[tokio::test]
async fn schedules_answer_permission_first_and_units_read_their_own_assignments() {
    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let wuchang = secrets.token("admin", Role::Admin, "武昌区");
    let dongxihu = secrets.token("admin", Role::Admin, "东西湖区");
    let own = targets(&set, &wuchang)
        .create_plan(plan(
            "武昌区人民政府办公室",
            "区",
            "2025年区《政府工作报告》",
        ))
        .await
        .expect("武昌区 creates its own plan")
        .into_inner();
    let client =
        |token: &str| AssignmentsServiceClient::new(as_caller(&set, Service::Assignments, token));
    let schedule = format!("{}/reportingSchedule", own.name);
    let status = client(&dongxihu)
        .get_reporting_schedule(GetReportingScheduleRequest {
            name: schedule.clone(),
        })
        .await
        .expect_err("another government's plan, no schedule yet");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client(&wuchang)
        .get_reporting_schedule(GetReportingScheduleRequest { name: schedule })
        .await
        .expect_err("its own plan has no schedule yet");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    for token in [&wuchang, &secrets.token("admin", Role::Admin, "")] {
        let status = client(token)
            .update_reporting_schedule(UpdateReportingScheduleRequest {
                schedule: Some(ReportingSchedule {
                    name: "plans/999999/reportingSchedule".into(),
                    rule: "每季度第1个月10日前报送".into(),
                    year: 2025,
                    ..Default::default()
                }),
                allow_missing: true,
                ..Default::default()
            })
            .await
            .expect_err("a plan nobody knows");
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
    }

    let mine = assignment(&set, &wuchang, &own.name, "区发改局").await;
    let theirs = assignment(&set, &wuchang, &own.name, "区财政局").await;
    let reporter = secrets.token("区发改局", Role::Reporter, "武昌区");
    client(&reporter)
        .get_assignment(GetAssignmentRequest {
            name: mine.name.clone(),
        })
        .await
        .expect("its own unit's assignment");
    let status = client(&reporter)
        .get_assignment(GetAssignmentRequest {
            name: theirs.name.clone(),
        })
        .await
        .expect_err("another unit's assignment");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let listed: Vec<_> = client(&reporter)
        .list_assignments(ListAssignmentsRequest::default())
        .await
        .expect("ListAssignments")
        .into_inner()
        .assignments
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(listed, [mine.name]);
    set.stop().await;
}
