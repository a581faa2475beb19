"""The scope table (issue 24): every RPC called by every role of three governments against one
government's resources, through grpcio over TLS with tokens, each answer checked against the
table below.

The resources belong to 武昌区: a plan issued by 武昌区人民政府办公室 that decomposes
"2025年武汉市《政府工作报告》", its task and indicator, an assignment of 区发改局, a report, its
evidence, an extension, a reporting schedule, supervision settings and a notice issued by
武昌区. The callers hold tokens of 武昌区 (own), 江岸区 (other: a government beside it) and
武汉市 (upper: the government whose report the plan decomposes); reporters and unit heads act
for 区发改局 (武昌区发展和改革局, as the registry names it) in each.

Each cell of the table is own/other/upper:
  ok   the call got past every permission check: it succeeded (a list shows the resource), or
       was refused for the resource's state (FAILED_PRECONDITION, ALREADY_EXISTS: a write
       already made by the same row's own caller);
  no   PERMISSION_DENIED;
  hid  a list that succeeded and left the resource out.
"""

import grpc

TABLE = """
# rpc                            reporter   unit_head  supervisor admin
CreateDocument                   no/no/no   no/no/no   no/no/no   ok/no/no
GetDocument                      no/no/no   no/no/no   ok/no/ok   ok/no/no
ListDocuments                    no/no/no   no/no/no   ok/hid/ok  ok/hid/hid
CreatePlan                       no/no/no   no/no/no   no/no/no   ok/no/no
GetPlan                          ok/no/no   ok/no/no   ok/no/ok   ok/no/no
ListPlans                        ok/hid/hid ok/hid/hid ok/hid/ok  ok/hid/hid
GetTask                          ok/no/no   ok/no/no   ok/no/ok   ok/no/no
ListTasks                        ok/no/no   ok/no/no   ok/no/ok   ok/no/no
UpdateTask                       no/no/no   no/no/no   no/no/no   ok/no/no
CreateObservation                no/no/no   no/no/no   no/no/no   ok/no/no
ListObservations                 ok/no/no   ok/no/no   ok/no/ok   ok/no/no
GetIndicatorLineage              ok/no/no   ok/no/no   ok/no/ok   ok/no/no
ListWeakerIndicators             ok/ok/ok   ok/ok/ok   ok/ok/ok   ok/ok/ok
GetScorecard                     ok/hid/hid ok/hid/hid ok/hid/ok  ok/hid/hid
GetUnit                          ok/ok/ok   ok/ok/ok   ok/ok/ok   ok/ok/ok
ListUnits                        ok/ok/ok   ok/ok/ok   ok/ok/ok   ok/ok/ok
CreateAssignments                no/no/no   no/no/no   no/no/no   ok/no/no
GetAssignment                    ok/no/no   ok/no/no   ok/no/ok   ok/no/no
ListAssignments                  ok/hid/hid ok/hid/hid ok/hid/ok  ok/hid/hid
GetReportingSchedule             ok/no/no   ok/no/no   ok/no/ok   ok/no/no
UpdateReportingSchedule          no/no/no   no/no/no   no/no/no   ok/no/no
ListLedger                       ok/hid/hid ok/hid/hid ok/hid/ok  ok/hid/hid
ListUnitLoads                    no/no/no   no/no/no   ok/no/ok   ok/no/no
CreateReport                     ok/no/no   no/no/no   no/no/no   no/no/no
GetReport                        ok/no/no   ok/no/no   ok/no/ok   no/no/no
ListReports                      ok/hid/hid ok/hid/hid ok/hid/ok  no/no/no
UpdateReport                     ok/no/no   no/no/no   no/no/no   no/no/no
SignReport                       no/no/no   ok/no/no   no/no/no   no/no/no
SubmitReport                     ok/no/no   ok/no/no   no/no/no   no/no/no
ReturnReport                     no/no/no   no/no/no   ok/no/no   no/no/no
AcceptReport                     no/no/no   no/no/no   ok/no/no   no/no/no
ListReportVersions               ok/no/no   ok/no/no   ok/no/ok   no/no/no
CreateEvidence                   ok/no/no   no/no/no   no/no/no   no/no/no
GetEvidence                      ok/no/no   ok/no/no   ok/no/ok   no/no/no
CreateExtension                  ok/no/no   ok/no/no   no/no/no   no/no/no
DecideExtension                  no/no/no   no/no/no   ok/no/no   no/no/no
ListExtensions                   ok/hid/hid ok/hid/hid ok/hid/ok  no/no/no
GetSupervisionSettings           no/no/no   no/no/no   ok/no/ok   no/no/no
UpdateSupervisionSettings        no/no/no   no/no/no   ok/no/no   no/no/no
ListOverdueItems                 no/no/no   no/no/no   ok/no/ok   no/no/no
ListLights                       no/no/no   no/no/no   ok/no/ok   no/no/no
GetAggregates                    no/no/no   no/no/no   ok/no/ok   no/no/no
GetBulletin                      no/no/no   no/no/no   ok/no/ok   no/no/no
SubscribeEvents                  no/no/no   no/no/no   ok/no/ok   no/no/no
ingest.ListAuditEvents           no/no/no   no/no/no   ok/hid/hid ok/hid/hid
targets.ListAuditEvents          no/no/no   no/no/no   ok/hid/hid ok/hid/hid
assignments.ListAuditEvents      no/no/no   no/no/no   ok/hid/hid ok/hid/hid
reporting.ListAuditEvents        no/no/no   no/no/no   ok/hid/hid ok/hid/hid
RevokeToken                      no/no/no   no/no/no   no/no/no   ok/no/no
ListRevocations                  no/no/no   no/no/no   no/no/no   ok/ok/ok
MergeUnits                       no/no/no   no/no/no   no/no/no   ok/no/no
"""

ROLES = ("reporter", "unit_head", "supervisor", "admin")
GOVERNMENTS = {"own": "武昌区", "other": "江岸区", "upper": "武汉市"}
# Writes the own caller may make run last, so that a refused caller meets the resource as it
# was made (a merged unit, a submitted report would answer otherwise).
ORDER = ("other", "upper", "own")
# A refusal for the resource's state comes after every permission check.
STATE_CODES = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}


def expected_table():
    rows = {}
    for line in TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        rpc, *cells = line.split()
        rows[rpc] = {
            role: dict(zip(("own", "other", "upper"), cell.split("/")))
            for role, cell in zip(ROLES, cells)
        }
    return rows


def scope_table(args, pb, checks, services):
    from google.protobuf import field_mask_pb2

    from duban.v1 import common_pb2, security_pb2

    ingest_pb2 = pb["ingest"][0]
    targets_pb2 = pb["targets"][0]
    assignments_pb2 = pb["assignments"][0]
    reporting_pb2 = pb["reporting"][0]
    ingest, targets, assignments, tokens_stub, reporting = services(
        args, pb, "ingest", "targets", "assignments", "tokens", "reporting"
    )
    audits = {
        service: services(args, pb, f"audit:{service}")[0]
        for service in ("ingest", "targets", "assignments", "reporting")
    }
    tokens = dict(t.split("=", 1) for t in args.token or ())

    def as_(key):
        return [("authorization", f"Bearer {tokens[key]}")]

    root = as_("root")
    own_reporter = as_("reporter@武昌区")

    # The resources, made by an admin of the whole deployment and 武昌区's reporter.
    with open(args.seed, "rb") as f:
        notice = f.read()
    gdp = common_pb2.Quantity(phrase="增长6%左右", metric="地区生产总值增长", value=6, unit="%", comparator=common_pb2.ABOUT)

    def new_plan(request_id=""):
        return targets_pb2.CreatePlanRequest(
            plan=targets_pb2.Plan(
                title="2025年武汉市《政府工作报告》目标任务(武昌区)责任分解方案",
                year=2025,
                issuer="武昌区人民政府办公室",
                level="市",
                source_report="2025年武汉市《政府工作报告》",
            ),
            tasks=[
                targets_pb2.Task(number="1", text="地区生产总值增长6%左右", indicators=[targets_pb2.Indicator(quantity=gdp)]),
                targets_pb2.Task(number="2", text="统计数据质量提升"),
            ],
            request_id=request_id,
        )

    plan = targets.CreatePlan(new_plan(), metadata=root, timeout=30)
    task, second = targets.ListTasks(targets_pb2.ListTasksRequest(parent=plan.name), metadata=root, timeout=30).tasks
    indicator = task.indicators[0].name
    lead = assignments.CreateAssignments(
        assignments_pb2.CreateAssignmentsRequest(
            task=task.name, assignments=[assignments_pb2.AssignmentInput(written_name="区发改局", role=common_pb2.LEAD)]
        ),
        metadata=root,
        timeout=30,
    ).assignments[0]
    merged = assignments.CreateAssignments(
        assignments_pb2.CreateAssignmentsRequest(
            task=second.name, assignments=[assignments_pb2.AssignmentInput(written_name="区统计局", role=common_pb2.LEAD)]
        ),
        metadata=root,
        timeout=30,
    ).assignments[0]
    # After the units above exist: the notice's delivery names 区发改局 too, and the tokens of
    # the table name the unit as the fixture wrote it.
    document = ingest.CreateDocument(
        ingest_pb2.CreateDocumentRequest(content=notice, filename="notice.txt"), metadata=root, timeout=60
    )
    schedule = assignments_pb2.ReportingSchedule(
        name=f"{plan.name}/reportingSchedule", rule="每季度第1个月的10日前报送上季度工作进展", year=2025
    )
    assignments.UpdateReportingSchedule(
        assignments_pb2.UpdateReportingScheduleRequest(schedule=schedule, allow_missing=True), metadata=root, timeout=30
    )
    report = reporting.CreateReport(
        reporting_pb2.CreateReportRequest(
            report=reporting_pb2.Report(assignment=lead.name, period="2025Q2", status=reporting_pb2.ON_PACE, progress="按序时推进")
        ),
        metadata=own_reporter,
        timeout=30,
    )
    evidence = reporting.CreateEvidence(
        reporting_pb2.CreateEvidenceRequest(
            parent=report.name,
            evidence=reporting_pb2.Evidence(filename="照片.txt", media_type="text/plain", content="现场照片说明".encode()),
        ),
        metadata=own_reporter,
        timeout=30,
    )
    worker = reporting_pb2.Actor(name="王芳", role="科员")
    extension = reporting.CreateExtension(
        reporting_pb2.CreateExtensionRequest(
            extension=reporting_pb2.Extension(
                assignment=lead.name, period="2025Q3", requested_due_date="2025-10-20", reason="数据待统计局发布", requester=worker
            )
        ),
        metadata=own_reporter,
        timeout=30,
    )
    settings_name = f"{plan.name}/supervisionSettings"
    office = reporting_pb2.Actor(name="李华", role="督查室")

    # Each row: how to call it and, for lists, what shows the resource in the answer.
    rows = {
        "CreateDocument": (ingest.CreateDocument, lambda: ingest_pb2.CreateDocumentRequest(content=notice, filename="again.txt"), None),
        "GetDocument": (ingest.GetDocument, lambda: ingest_pb2.GetDocumentRequest(name=document.name), None),
        "ListDocuments": (ingest.ListDocuments, lambda: ingest_pb2.ListDocumentsRequest(page_size=100), document.name),
        "CreatePlan": (targets.CreatePlan, new_plan, None),
        "GetPlan": (targets.GetPlan, lambda: targets_pb2.GetPlanRequest(name=plan.name), None),
        "ListPlans": (targets.ListPlans, lambda: targets_pb2.ListPlansRequest(page_size=100), f'"{plan.name}"'),
        "GetTask": (targets.GetTask, lambda: targets_pb2.GetTaskRequest(name=task.name), None),
        "ListTasks": (targets.ListTasks, lambda: targets_pb2.ListTasksRequest(parent=plan.name), None),
        "UpdateTask": (
            targets.UpdateTask,
            lambda: targets_pb2.UpdateTaskRequest(
                task=targets_pb2.Task(name=task.name, deadline="2025年12月底前"),
                update_mask=field_mask_pb2.FieldMask(paths=["deadline"]),
            ),
            None,
        ),
        "CreateObservation": (
            targets.CreateObservation,
            lambda: targets_pb2.CreateObservationRequest(
                parent=indicator,
                observation=targets_pb2.Observation(
                    quantity=common_pb2.Quantity(value=6.2, unit="%"), as_of="2025-12-31", source=document.name
                ),
            ),
            None,
        ),
        "ListObservations": (targets.ListObservations, lambda: targets_pb2.ListObservationsRequest(parent=indicator), None),
        "GetIndicatorLineage": (targets.GetIndicatorLineage, lambda: targets_pb2.GetIndicatorLineageRequest(name=task.name), None),
        "ListWeakerIndicators": (targets.ListWeakerIndicators, lambda: targets_pb2.ListWeakerIndicatorsRequest(year=2025), None),
        # the scorecard counts the indicators of the plans a caller may read, and only those
        "GetScorecard": (
            targets.GetScorecard,
            lambda: targets_pb2.GetScorecardRequest(year=2025),
            lambda r: len(r.entries) + r.met + r.missed + r.unclear + r.without_outcome > 0,
        ),
        "GetUnit": (assignments.GetUnit, lambda: assignments_pb2.GetUnitRequest(name=lead.unit), None),
        "ListUnits": (assignments.ListUnits, lambda: assignments_pb2.ListUnitsRequest(page_size=100), f'"{lead.unit}"'),
        "CreateAssignments": (
            assignments.CreateAssignments,
            lambda: assignments_pb2.CreateAssignmentsRequest(
                task=task.name,
                assignments=[assignments_pb2.AssignmentInput(written_name="区科技局", role=common_pb2.COOPERATING)],
            ),
            None,
        ),
        "GetAssignment": (assignments.GetAssignment, lambda: assignments_pb2.GetAssignmentRequest(name=lead.name), None),
        "ListAssignments": (
            assignments.ListAssignments,
            lambda: assignments_pb2.ListAssignmentsRequest(filter=f'task="{task.name}"'),
            f'"{lead.name}"',
        ),
        "GetReportingSchedule": (
            assignments.GetReportingSchedule,
            lambda: assignments_pb2.GetReportingScheduleRequest(name=schedule.name),
            None,
        ),
        "UpdateReportingSchedule": (
            assignments.UpdateReportingSchedule,
            lambda: assignments_pb2.UpdateReportingScheduleRequest(
                schedule=schedule, update_mask=field_mask_pb2.FieldMask(paths=["rule"])
            ),
            None,
        ),
        "ListLedger": (
            assignments.ListLedger,
            lambda: assignments_pb2.ListLedgerRequest(unit="区发改局", as_of="2025-05-01"),
            f'"{lead.name}"',
        ),
        "ListUnitLoads": (assignments.ListUnitLoads, lambda: assignments_pb2.ListUnitLoadsRequest(plan=plan.name), None),
        "CreateReport": (
            reporting.CreateReport,
            lambda: reporting_pb2.CreateReportRequest(
                report=reporting_pb2.Report(assignment=lead.name, period="2025Q3", status=reporting_pb2.ON_PACE, progress="按序时推进")
            ),
            None,
        ),
        "GetReport": (reporting.GetReport, lambda: reporting_pb2.GetReportRequest(name=report.name), None),
        "ListReports": (reporting.ListReports, lambda: reporting_pb2.ListReportsRequest(page_size=100), f'"{report.name}"'),
        "UpdateReport": (
            reporting.UpdateReport,
            lambda: reporting_pb2.UpdateReportRequest(
                report=reporting_pb2.Report(name=report.name, problems="资金到位偏慢"),
                update_mask=field_mask_pb2.FieldMask(paths=["problems"]),
            ),
            None,
        ),
        "SignReport": (
            reporting.SignReport,
            lambda: reporting_pb2.SignReportRequest(name=report.name, signer=reporting_pb2.Actor(name="张明", role="局长")),
            None,
        ),
        "SubmitReport": (
            reporting.SubmitReport,
            lambda: reporting_pb2.SubmitReportRequest(name=report.name, submitter=worker, as_of="2025-07-05"),
            None,
        ),
        "ReturnReport": (
            reporting.ReturnReport,
            lambda: reporting_pb2.ReturnReportRequest(name=report.name, reviewer=office, reason="数据口径不一致"),
            None,
        ),
        "AcceptReport": (
            reporting.AcceptReport,
            lambda: reporting_pb2.AcceptReportRequest(name=report.name, reviewer=office),
            None,
        ),
        "ListReportVersions": (reporting.ListReportVersions, lambda: reporting_pb2.ListReportVersionsRequest(parent=report.name), None),
        "CreateEvidence": (
            reporting.CreateEvidence,
            lambda: reporting_pb2.CreateEvidenceRequest(
                parent=report.name,
                evidence=reporting_pb2.Evidence(filename="台账.txt", media_type="text/plain", content="台账".encode()),
            ),
            None,
        ),
        "GetEvidence": (reporting.GetEvidence, lambda: reporting_pb2.GetEvidenceRequest(name=evidence.name), None),
        "CreateExtension": (
            reporting.CreateExtension,
            lambda: reporting_pb2.CreateExtensionRequest(
                extension=reporting_pb2.Extension(
                    assignment=lead.name, period="2025Q4", requested_due_date="2026-01-20", reason="年报待发布", requester=worker
                )
            ),
            None,
        ),
        "DecideExtension": (
            reporting.DecideExtension,
            lambda: reporting_pb2.DecideExtensionRequest(name=extension.name, approve=True, decider=office),
            None,
        ),
        "ListExtensions": (reporting.ListExtensions, lambda: reporting_pb2.ListExtensionsRequest(page_size=100), f'"{extension.name}"'),
        "GetSupervisionSettings": (
            reporting.GetSupervisionSettings,
            lambda: reporting_pb2.GetSupervisionSettingsRequest(name=settings_name),
            None,
        ),
        "UpdateSupervisionSettings": (
            reporting.UpdateSupervisionSettings,
            lambda: reporting_pb2.UpdateSupervisionSettingsRequest(
                settings=reporting_pb2.SupervisionSettings(
                    name=settings_name, red_after_overdue_days=10, red_after_behind_periods=2, pace_tolerance_percent=5
                )
            ),
            None,
        ),
        "ListOverdueItems": (
            reporting.ListOverdueItems,
            lambda: reporting_pb2.ListOverdueItemsRequest(parent=plan.name, as_of="2025-11-20"),
            None,
        ),
        "ListLights": (reporting.ListLights, lambda: reporting_pb2.ListLightsRequest(parent=plan.name, period="2025Q2"), None),
        "GetAggregates": (
            reporting.GetAggregates,
            lambda: reporting_pb2.GetAggregatesRequest(parent=plan.name, period="2025Q2", group_by=reporting_pb2.GROUP_UNIT),
            None,
        ),
        "GetBulletin": (
            reporting.GetBulletin,
            lambda: reporting_pb2.GetBulletinRequest(parent=plan.name, period="2025Q2", format=reporting_pb2.MARKDOWN),
            None,
        ),
        "SubscribeEvents": (reporting.SubscribeEvents, lambda: reporting_pb2.SubscribeEventsRequest(plan=plan.name), None),
        "RevokeToken": (
            tokens_stub.RevokeToken,
            lambda: security_pb2.RevokeTokenRequest(token_id="武昌区/scope-table", reason="lost"),
            None,
        ),
        "ListRevocations": (tokens_stub.ListRevocations, lambda: security_pb2.ListRevocationsRequest(), None),
    }
    # A trail shows 武昌区's rows (its callers' writes and refusals, recorded as unit@武昌区) to
    # 武昌区's readers only.
    for service, stub in audits.items():
        rows[f"{service}.ListAuditEvents"] = (
            stub.ListAuditEvents,
            lambda: security_pb2.ListAuditEventsRequest(page_size=1000),
            lambda response: any(e.actor.endswith("@武昌区") for e in response.events),
        )
    # The own admin merges 区统计局 into 区发改局 after every other caller was refused (two
    # reviewed units, so the request says so).
    rows["MergeUnits"] = (
        assignments.MergeUnits,
        lambda: assignments_pb2.MergeUnitsRequest(source=merged.unit, target=lead.unit, merge_reviewed=True),
        None,
    )

    def outcome(call, request, marker, metadata):
        try:
            if call is reporting.SubscribeEvents:
                stream = call(request, metadata=metadata, timeout=5)
                try:
                    next(stream)
                finally:
                    stream.cancel()
                return "ok", ""
            response = call(request, metadata=metadata, timeout=30)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.PERMISSION_DENIED:
                return "no", err.details()
            if err.code() in STATE_CODES:
                return "ok", f"{err.code().name}: {err.details()}"
            return f"err:{err.code().name}", err.details()
        if marker is None:
            return "ok", ""
        shown = marker(response) if callable(marker) else marker in str(response)
        return ("ok" if shown else "hid"), ""

    expected = expected_table()
    missing = sorted(set(rows) - set(expected)) + sorted(set(expected) - set(rows))
    checks.ok("the table has a row for every call made, and no other", not missing, missing)
    printed = []
    for rpc, (call, request, marker) in rows.items():
        cells = {}
        for role in ROLES:
            for where in ORDER:
                key = f"{role}@{GOVERNMENTS[where]}"
                got, why = outcome(call, request(), marker, as_(key))
                want = expected.get(rpc, {}).get(role, {}).get(where)
                cells[(role, where)] = got
                checks.ok(f"{rpc} by {role} of {where} ({GOVERNMENTS[where]}): {want}", got == want, f"got {got}: {why}")
        printed.append(
            f"{rpc:32} "
            + " ".join(f"{'/'.join(cells[(role, w)] for w in ('own', 'other', 'upper')):10}" for role in ROLES)
        )
    print("# as answered (own/other/upper):")
    print(f"{'# rpc':32} " + " ".join(f"{role:10}" for role in ROLES))
    for line in printed:
        print(line)
