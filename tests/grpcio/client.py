"""duban called as another government system would call it: Google's grpcio (the C core that
the Python, Ruby, PHP, C# and C++ clients share), stubs generated from proto/ by grpc_tools.

Run by tests/tests/grpcio.rs against the real services:

    client.py --stubs DIR --ingest HOST:PORT --targets HOST:PORT \
              --assignments HOST:PORT --reporting HOST:PORT [--ca PEM] [--token JWT] SUITE

Each suite prints one line per check and exits 1 when any check failed, naming it.
"""

import argparse
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

DETAIL_TYPES = {
    "BadRequest": error_details_pb2.BadRequest,
    "ResourceInfo": error_details_pb2.ResourceInfo,
    "ErrorInfo": error_details_pb2.ErrorInfo,
    "RetryInfo": error_details_pb2.RetryInfo,
}


class Checks:
    def __init__(self):
        self.failures = []
        self.count = 0

    def ok(self, name, condition, detail=""):
        self.count += 1
        if condition:
            print(f"ok   {name}")
        else:
            print(f"FAIL {name}: {detail}")
            self.failures.append(name)

    def refused(self, name, call, request, code, details=(), metadata=None):
        """`call(request)` must fail with `code`, and every type in `details` must decode from
        the google.rpc.Status in the trailers. Returns the decoded details by type name."""
        try:
            call(request, metadata=metadata, timeout=30)
        except grpc.RpcError as err:
            got = err.code()
            self.ok(
                f"{name}: {code.name}",
                got == code,
                f"got {got.name}: {err.details()}",
            )
            status = rpc_status.from_call(err)
            decoded = {}
            if status is not None:
                for any_detail in status.details:
                    for type_name, cls in DETAIL_TYPES.items():
                        if any_detail.Is(cls.DESCRIPTOR):
                            message = cls()
                            any_detail.Unpack(message)
                            decoded[type_name] = message
            for type_name in details:
                self.ok(
                    f"{name}: {type_name} decodes",
                    type_name in decoded,
                    f"details carried: {sorted(decoded)} (status {'absent' if status is None else 'present'})",
                )
            return decoded
        self.ok(f"{name}: {code.name}", False, "the call succeeded")
        return {}


def stubs(module_dir):
    sys.path.insert(0, module_dir)
    from duban.v1 import (  # noqa: E402 (the stubs are generated at test time)
        assignments_pb2,
        assignments_pb2_grpc,
        ingest_pb2,
        ingest_pb2_grpc,
        reporting_pb2,
        reporting_pb2_grpc,
        targets_pb2,
        targets_pb2_grpc,
    )

    return {
        "assignments": (assignments_pb2, assignments_pb2_grpc),
        "ingest": (ingest_pb2, ingest_pb2_grpc),
        "reporting": (reporting_pb2, reporting_pb2_grpc),
        "targets": (targets_pb2, targets_pb2_grpc),
    }


def channel(address, ca):
    if ca is None:
        return grpc.insecure_channel(address)
    with open(ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    return grpc.secure_channel(address, credentials)


def services(args, pb, *names):
    """Stubs of the named services, in order: "ingest", "targets", "assignments", "reporting",
    "tokens" (on the assignments port) or "audit:<service>", over channels to the set's ports."""
    from duban.v1 import security_pb2_grpc

    stubs_by_name = {
        "ingest": lambda: pb["ingest"][1].IngestServiceStub(channel(args.ingest, args.ca)),
        "targets": lambda: pb["targets"][1].TargetsServiceStub(channel(args.targets, args.ca)),
        "assignments": lambda: pb["assignments"][1].AssignmentsServiceStub(channel(args.assignments, args.ca)),
        "reporting": lambda: pb["reporting"][1].ReportingServiceStub(channel(args.reporting, args.ca)),
        "tokens": lambda: security_pb2_grpc.TokenServiceStub(channel(args.assignments, args.ca)),
    }
    out = []
    for name in names:
        if name.startswith("audit:"):
            address = getattr(args, name.split(":", 1)[1])
            out.append(security_pb2_grpc.AuditServiceStub(channel(address, args.ca)))
        else:
            out.append(stubs_by_name[name]())
    return out


def bearer(args, role):
    """The call metadata carrying the token of `role` (--token ROLE=JWT); None without tokens."""
    tokens = dict(t.split("=", 1) for t in args.token or ())
    if not tokens:
        return None
    return [("authorization", f"Bearer {tokens[role]}")]


def refused_writes(args, pb, checks):
    """Writes (and reads no value could match) the services refuse, each with its real code and
    details (issue 23, item 1). With tokens (--token ROLE=JWT) each write is sent with the role
    that may make it, and the security layer's own refusals are checked too."""
    metadata = bearer(args, "admin")
    ingest_pb2 = pb["ingest"][0]
    assignments_pb2 = pb["assignments"][0]
    reporting_pb2 = pb["reporting"][0]
    ingest, assignments, reporting = services(args, pb, "ingest", "assignments", "reporting")

    details = checks.refused(
        "CreateDocument without content",
        ingest.CreateDocument,
        ingest_pb2.CreateDocumentRequest(content=b"", filename="empty.txt"),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["BadRequest"],
        metadata,
    )
    if "BadRequest" in details:
        fields = [v.field for v in details["BadRequest"].field_violations]
        checks.ok("CreateDocument without content: names the field", "content" in fields, fields)
    checks.refused(
        "MergeUnits of a unit into itself",
        assignments.MergeUnits,
        assignments_pb2.MergeUnitsRequest(source="units/1", target="units/1"),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["BadRequest"],
        metadata,
    )
    checks.refused(
        "CreateReport for a missing assignment",
        reporting.CreateReport,
        reporting_pb2.CreateReportRequest(
            report=reporting_pb2.Report(assignment="assignments/999999", period="2025Q2")
        ),
        grpc.StatusCode.NOT_FOUND,
        ["ResourceInfo"],
        bearer(args, "reporter"),
    )
    checks.refused(
        "CreateReport with a bad period",
        reporting.CreateReport,
        reporting_pb2.CreateReportRequest(
            report=reporting_pb2.Report(assignment="assignments/1", period="2025Q7")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["BadRequest"],
        bearer(args, "reporter"),
    )
    # Reads with values nothing can match are refused too, naming what is allowed (issue 31).
    targets_pb2 = pb["targets"][0]
    (targets,) = services(args, pb, "targets")
    supervisor = bearer(args, "supervisor")
    for name, call, request, field in [
        (
            "ListAssignments with role=LEADX",
            assignments.ListAssignments,
            assignments_pb2.ListAssignmentsRequest(filter="role=LEADX"),
            "filter",
        ),
        (
            "ListWeakerIndicators at level DISTRICT",
            targets.ListWeakerIndicators,
            targets_pb2.ListWeakerIndicatorsRequest(year=2025, level="DISTRICT"),
            "level",
        ),
        (
            "ListLights of plans/-",
            reporting.ListLights,
            reporting_pb2.ListLightsRequest(parent="plans/-", period="2025Q2"),
            "parent",
        ),
    ]:
        details = checks.refused(name, call, request, grpc.StatusCode.INVALID_ARGUMENT, ["BadRequest"], supervisor)
        if "BadRequest" in details:
            violations = details["BadRequest"].field_violations
            checks.ok(f"{name}: names {field}", [v.field for v in violations] == [field], violations)
            if field != "parent":
                checks.ok(f"{name}: lists the allowed values", "must be one of" in violations[0].description, violations)
    if not args.token:
        return
    document = ingest_pb2.CreateDocumentRequest(content="一、目标".encode(), filename="a.txt")
    checks.refused("CreateDocument without a token", ingest.CreateDocument, document, grpc.StatusCode.UNAUTHENTICATED)
    checks.refused(
        "CreateDocument with a forged token",
        ingest.CreateDocument,
        document,
        grpc.StatusCode.UNAUTHENTICATED,
        metadata=[("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")],
    )
    checks.refused(
        "CreateDocument by a reporter",
        ingest.CreateDocument,
        document,
        grpc.StatusCode.PERMISSION_DENIED,
        metadata=bearer(args, "reporter"),
    )
    checks.refused(
        "MergeUnits by a supervisor",
        assignments.MergeUnits,
        assignments_pb2.MergeUnitsRequest(source="units/1", target="units/2"),
        grpc.StatusCode.PERMISSION_DENIED,
        metadata=bearer(args, "supervisor"),
    )


def bounded_errors(args, pb, checks):
    """Errors quote what the caller sent only up to a bound, and inputs that travel to SQL are
    bounded before they get there (issue 23, items 4 and 5)."""
    metadata = bearer(args, "supervisor")
    assignments_pb2 = pb["assignments"][0]
    targets_pb2 = pb["targets"][0]
    assignments, targets = services(args, pb, "assignments", "targets")

    def short_error(name, call, request, codes):
        try:
            call(request, metadata=metadata, timeout=30)
            checks.ok(name, False, "the call succeeded")
            return None
        except grpc.RpcError as err:
            checks.ok(f"{name}: {err.code().name}", err.code() in codes, err.details()[:300])
            size = sum(len(k) + len(v) for k, v in err.trailing_metadata() or ())
            checks.ok(f"{name}: error metadata {size} bytes < 8192", size < 8192, size)
            return err

    short_error(
        "ListLedger of a 10,000-character unit",
        assignments.ListLedger,
        assignments_pb2.ListLedgerRequest(unit="区" * 10_000),
        {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT},
    )
    short_error(
        "GetPlan of a 10,000-character name",
        targets.GetPlan,
        targets_pb2.GetPlanRequest(name="plans/" + "9" * 10_000),
        {grpc.StatusCode.INVALID_ARGUMENT},
    )
    err = short_error(
        "ListTasks with a megabyte filter",
        targets.ListTasks,
        targets_pb2.ListTasksRequest(parent="plans/-", filter="text:" + "营" * 350_000),
        {grpc.StatusCode.INVALID_ARGUMENT},
    )
    if err is not None:
        checks.ok("ListTasks with a megabyte filter: names the limit", "at most 2000" in err.details(), err.details()[:300])
    err = short_error(
        "ListTasks with 17 filter terms",
        targets.ListTasks,
        targets_pb2.ListTasksRequest(parent="plans/-", filter=" AND ".join(["status=ACTIVE"] * 17)),
        {grpc.StatusCode.INVALID_ARGUMENT},
    )
    if err is not None:
        checks.ok("ListTasks with 17 filter terms: names the limit", "16 terms" in err.details(), err.details()[:300])


def every_rpc(args, pb, checks):
    """Every RPC of the four services (and the audit and token services) once accepted and at
    least once refused, as a non-Rust client sees them (issue 23, step 4). Runs open (no
    tokens): the data it needs is made through the API itself."""
    import time

    from google.protobuf import field_mask_pb2

    from duban.v1 import common_pb2, security_pb2

    ingest_pb2 = pb["ingest"][0]
    targets_pb2 = pb["targets"][0]
    assignments_pb2 = pb["assignments"][0]
    reporting_pb2 = pb["reporting"][0]
    ingest, targets, assignments, tokens, reporting = services(
        args, pb, "ingest", "targets", "assignments", "tokens", "reporting"
    )
    INVALID = grpc.StatusCode.INVALID_ARGUMENT
    NOT_FOUND = grpc.StatusCode.NOT_FOUND
    # every method of every service the four ports serve (the proto files say which)
    methods = {
        m.name
        for module in (ingest_pb2, targets_pb2, assignments_pb2, reporting_pb2, security_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for m in service.methods
    }
    covered = {"accepted": set(), "refused": set()}

    def method_of(name):
        return next((word for word in name.split() if word in methods), None)

    def accepted(name, call, request):
        try:
            response = call(request, timeout=60)
            checks.ok(f"{name}: OK", True)
            covered["accepted"].add(method_of(name))
            return response
        except grpc.RpcError as err:
            checks.ok(f"{name}: OK", False, f"{err.code().name}: {err.details()}")
            return None

    def refused(name, call, request, code, details=()):
        before = len(checks.failures)
        decoded = checks.refused(name, call, request, code, details)
        if len(checks.failures) == before:
            covered["refused"].add(method_of(name))
        return decoded

    # ingest
    with open(args.seed, "rb") as f:
        content = f.read()
    document = accepted(
        "CreateDocument",
        ingest.CreateDocument,
        ingest_pb2.CreateDocumentRequest(content=content, filename="seed.txt", request_id="py-doc-1"),
    )
    again = accepted(
        "CreateDocument retried with its request_id",
        ingest.CreateDocument,
        ingest_pb2.CreateDocumentRequest(content=content, filename="seed.txt", request_id="py-doc-1"),
    )
    checks.ok(
        "CreateDocument retried: the same document",
        document is not None and again is not None and document.name == again.name,
        f"{document and document.name} vs {again and again.name}",
    )
    refused("CreateDocument without content", ingest.CreateDocument, ingest_pb2.CreateDocumentRequest(), INVALID, ["BadRequest"])
    if document is not None:
        accepted("GetDocument", ingest.GetDocument, ingest_pb2.GetDocumentRequest(name=document.name))
    refused("GetDocument of a missing document", ingest.GetDocument, ingest_pb2.GetDocumentRequest(name="documents/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListDocuments", ingest.ListDocuments, ingest_pb2.ListDocumentsRequest(page_size=10))
    refused("ListDocuments with an unknown filter field", ingest.ListDocuments, ingest_pb2.ListDocumentsRequest(filter="colour=red"), INVALID, ["BadRequest"])

    # targets
    plan = accepted(
        "CreatePlan",
        targets.CreatePlan,
        targets_pb2.CreatePlanRequest(
            plan=targets_pb2.Plan(title="grpcio测试区2025年目标任务分解方案", year=2025, issuer="grpcio测试区人民政府办公室", level="区"),
            tasks=[
                targets_pb2.Task(
                    number="1",
                    text="地区生产总值增长6%左右",
                    indicators=[
                        targets_pb2.Indicator(
                            quantity=common_pb2.Quantity(phrase="增长6%左右", metric="地区生产总值增长", value=6, unit="%", comparator=common_pb2.ABOUT)
                        )
                    ],
                ),
                targets_pb2.Task(number="2", text="新增市场主体1000户以上"),
            ],
            request_id="py-plan-1",
        ),
    )
    refused("CreatePlan without a title", targets.CreatePlan, targets_pb2.CreatePlanRequest(plan=targets_pb2.Plan(year=2025)), INVALID, ["BadRequest"])
    if plan is None:
        return
    accepted("GetPlan", targets.GetPlan, targets_pb2.GetPlanRequest(name=plan.name))
    refused("GetPlan of a missing plan", targets.GetPlan, targets_pb2.GetPlanRequest(name="plans/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListPlans", targets.ListPlans, targets_pb2.ListPlansRequest(filter="year=2025"))
    refused("ListPlans with a negative page size", targets.ListPlans, targets_pb2.ListPlansRequest(page_size=-1), INVALID, ["BadRequest"])
    tasks = accepted("ListTasks", targets.ListTasks, targets_pb2.ListTasksRequest(parent=plan.name))
    refused("ListTasks of a malformed parent", targets.ListTasks, targets_pb2.ListTasksRequest(parent="plan/x"), INVALID, ["BadRequest"])
    if tasks is None or len(tasks.tasks) < 2:
        checks.ok("the plan has its two tasks", False, tasks)
        return
    task, other_task = tasks.tasks[0], tasks.tasks[1]
    accepted("GetTask", targets.GetTask, targets_pb2.GetTaskRequest(name=task.name))
    refused("GetTask of a missing task", targets.GetTask, targets_pb2.GetTaskRequest(name=f"{plan.name}/tasks/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted(
        "UpdateTask",
        targets.UpdateTask,
        targets_pb2.UpdateTaskRequest(
            task=targets_pb2.Task(name=task.name, deadline="2025年12月底前"),
            update_mask=field_mask_pb2.FieldMask(paths=["deadline"]),
            request_id="py-task-1",
        ),
    )
    refused(
        "UpdateTask of a field that cannot change",
        targets.UpdateTask,
        targets_pb2.UpdateTaskRequest(
            task=targets_pb2.Task(name=task.name, text="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["colour"]),
        ),
        INVALID,
        ["BadRequest"],
    )
    indicator = task.indicators[0].name if task.indicators else ""
    checks.ok("the first task has its indicator", bool(indicator), task)
    accepted(
        "CreateObservation",
        targets.CreateObservation,
        targets_pb2.CreateObservationRequest(
            parent=indicator,
            observation=targets_pb2.Observation(
                quantity=common_pb2.Quantity(value=6.2, unit="%"),
                as_of="2025-12-31",
                source=document.name if document is not None else "documents/1",
            ),
            request_id="py-obs-1",
        ),
    )
    refused(
        "CreateObservation without a quantity",
        targets.CreateObservation,
        targets_pb2.CreateObservationRequest(parent=indicator, observation=targets_pb2.Observation(as_of="2025-12-31")),
        INVALID,
        ["BadRequest"],
    )
    accepted("ListObservations", targets.ListObservations, targets_pb2.ListObservationsRequest(parent=indicator))
    refused("ListObservations of a malformed indicator", targets.ListObservations, targets_pb2.ListObservationsRequest(parent="plans/x"), INVALID, ["BadRequest"])
    accepted("GetIndicatorLineage", targets.GetIndicatorLineage, targets_pb2.GetIndicatorLineageRequest(name=task.name))
    refused("GetIndicatorLineage of a missing task", targets.GetIndicatorLineage, targets_pb2.GetIndicatorLineageRequest(name=f"{plan.name}/tasks/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListWeakerIndicators", targets.ListWeakerIndicators, targets_pb2.ListWeakerIndicatorsRequest(year=2025))
    refused("ListWeakerIndicators of year 0", targets.ListWeakerIndicators, targets_pb2.ListWeakerIndicatorsRequest(year=0), INVALID, ["BadRequest"])
    accepted("GetScorecard", targets.GetScorecard, targets_pb2.GetScorecardRequest(year=2025))
    refused("GetScorecard of year 0", targets.GetScorecard, targets_pb2.GetScorecardRequest(year=0), INVALID, ["BadRequest"])

    # assignments
    created = accepted(
        "CreateAssignments",
        assignments.CreateAssignments,
        assignments_pb2.CreateAssignmentsRequest(
            task=task.name,
            assignments=[
                assignments_pb2.AssignmentInput(written_name="区发改局", role=common_pb2.LEAD),
                assignments_pb2.AssignmentInput(written_name="区统计局", role=common_pb2.COOPERATING),
            ],
            request_id="py-assign-1",
        ),
    )
    refused("CreateAssignments without units", assignments.CreateAssignments, assignments_pb2.CreateAssignmentsRequest(task=task.name), INVALID, ["BadRequest"])
    refused(
        "CreateAssignments for a missing task",
        assignments.CreateAssignments,
        assignments_pb2.CreateAssignmentsRequest(
            task=f"{plan.name}/tasks/999999",
            assignments=[assignments_pb2.AssignmentInput(written_name="区发改局", role=common_pb2.LEAD)],
        ),
        NOT_FOUND,
        ["ResourceInfo"],
    )
    if created is None or not created.assignments:
        return
    lead = next(a for a in created.assignments if a.role == common_pb2.LEAD)
    accepted("GetAssignment", assignments.GetAssignment, assignments_pb2.GetAssignmentRequest(name=lead.name))
    refused("GetAssignment of a missing assignment", assignments.GetAssignment, assignments_pb2.GetAssignmentRequest(name="assignments/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListAssignments", assignments.ListAssignments, assignments_pb2.ListAssignmentsRequest(filter=f'task="{task.name}"'))
    refused("ListAssignments with an unterminated quote", assignments.ListAssignments, assignments_pb2.ListAssignmentsRequest(filter='task="plans/1'), INVALID, ["BadRequest"])
    accepted("GetUnit", assignments.GetUnit, assignments_pb2.GetUnitRequest(name=lead.unit))
    refused("GetUnit of a missing unit", assignments.GetUnit, assignments_pb2.GetUnitRequest(name="units/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListUnits", assignments.ListUnits, assignments_pb2.ListUnitsRequest(page_size=5))
    refused("ListUnits with a bad page token", assignments.ListUnits, assignments_pb2.ListUnitsRequest(page_token="not-a-token"), INVALID, ["BadRequest"])
    schedule_name = f"{plan.name}/reportingSchedule"
    accepted(
        "UpdateReportingSchedule",
        assignments.UpdateReportingSchedule,
        assignments_pb2.UpdateReportingScheduleRequest(
            schedule=assignments_pb2.ReportingSchedule(
                name=schedule_name, rule="从2025年第二季度起，每个季度第1个月的10日前报送上季度工作进展", year=2025
            ),
            allow_missing=True,
            request_id="py-schedule-1",
        ),
    )
    refused(
        "UpdateReportingSchedule of a malformed name",
        assignments.UpdateReportingSchedule,
        assignments_pb2.UpdateReportingScheduleRequest(schedule=assignments_pb2.ReportingSchedule(name="plans/x/reportingSchedule")),
        INVALID,
        ["BadRequest"],
    )
    accepted("GetReportingSchedule", assignments.GetReportingSchedule, assignments_pb2.GetReportingScheduleRequest(name=schedule_name))
    refused("GetReportingSchedule of a missing plan", assignments.GetReportingSchedule, assignments_pb2.GetReportingScheduleRequest(name="plans/999999/reportingSchedule"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListLedger", assignments.ListLedger, assignments_pb2.ListLedgerRequest(unit="区发改局", as_of="2025-05-01"))
    refused("ListLedger without a unit", assignments.ListLedger, assignments_pb2.ListLedgerRequest(), INVALID, ["BadRequest"])
    accepted("ListUnitLoads", assignments.ListUnitLoads, assignments_pb2.ListUnitLoadsRequest(plan=plan.name))
    refused("ListUnitLoads of a malformed plan", assignments.ListUnitLoads, assignments_pb2.ListUnitLoadsRequest(plan="plans/0"), INVALID, ["BadRequest"])
    spare = accepted(
        "CreateAssignments of a provisional unit to merge",
        assignments.CreateAssignments,
        assignments_pb2.CreateAssignmentsRequest(
            task=other_task.name,
            assignments=[assignments_pb2.AssignmentInput(written_name="grpcio测试区发展改革局", role=common_pb2.LEAD)],
        ),
    )
    if spare is not None and spare.assignments:
        accepted(
            "MergeUnits",
            assignments.MergeUnits,
            assignments_pb2.MergeUnitsRequest(source=spare.assignments[0].unit, target=lead.unit, request_id="py-merge-1"),
        )
        accepted(
            "UnmergeUnit",
            assignments.UnmergeUnit,
            assignments_pb2.UnmergeUnitRequest(name=spare.assignments[0].unit, request_id="py-unmerge-1"),
        )
    refused("UnmergeUnit of a unit never merged", assignments.UnmergeUnit, assignments_pb2.UnmergeUnitRequest(name=lead.unit), grpc.StatusCode.FAILED_PRECONDITION, ["ErrorInfo"])
    refused("MergeUnits of a unit into itself", assignments.MergeUnits, assignments_pb2.MergeUnitsRequest(source=lead.unit, target=lead.unit), INVALID, ["BadRequest"])

    # reporting
    report = accepted(
        "CreateReport",
        reporting.CreateReport,
        reporting_pb2.CreateReportRequest(
            report=reporting_pb2.Report(assignment=lead.name, period="2025Q2", status=reporting_pb2.ON_PACE, progress="按序时推进"),
            request_id="py-report-1",
        ),
    )
    refused(
        "CreateReport for a missing assignment",
        reporting.CreateReport,
        reporting_pb2.CreateReportRequest(report=reporting_pb2.Report(assignment="assignments/999999", period="2025Q2")),
        NOT_FOUND,
        ["ResourceInfo"],
    )
    if report is None:
        return
    accepted("GetReport", reporting.GetReport, reporting_pb2.GetReportRequest(name=report.name))
    refused("GetReport of a missing report", reporting.GetReport, reporting_pb2.GetReportRequest(name="reports/999999"), NOT_FOUND, ["ResourceInfo"])
    accepted("ListReports", reporting.ListReports, reporting_pb2.ListReportsRequest(filter=f'assignment="{lead.name}"'))
    refused("ListReports with an unknown filter field", reporting.ListReports, reporting_pb2.ListReportsRequest(filter="colour=red"), INVALID, ["BadRequest"])
    accepted(
        "UpdateReport",
        reporting.UpdateReport,
        reporting_pb2.UpdateReportRequest(
            report=reporting_pb2.Report(name=report.name, problems="资金到位偏慢"),
            update_mask=field_mask_pb2.FieldMask(paths=["problems"]),
            request_id="py-update-1",
        ),
    )
    refused(
        "UpdateReport of a missing report",
        reporting.UpdateReport,
        reporting_pb2.UpdateReportRequest(report=reporting_pb2.Report(name="reports/999999", problems="x"), update_mask=field_mask_pb2.FieldMask(paths=["problems"])),
        NOT_FOUND,
        ["ResourceInfo"],
    )
    accepted(
        "CreateEvidence",
        reporting.CreateEvidence,
        reporting_pb2.CreateEvidenceRequest(
            parent=report.name,
            evidence=reporting_pb2.Evidence(filename="照片.txt", media_type="text/plain", content="现场照片说明".encode()),
            request_id="py-evidence-1",
        ),
    )
    refused("CreateEvidence without content", reporting.CreateEvidence, reporting_pb2.CreateEvidenceRequest(parent=report.name, evidence=reporting_pb2.Evidence(filename="a.txt")), INVALID, ["BadRequest"])
    current = accepted("GetReport with its evidence", reporting.GetReport, reporting_pb2.GetReportRequest(name=report.name))
    if current is not None and current.evidence:
        accepted("GetEvidence", reporting.GetEvidence, reporting_pb2.GetEvidenceRequest(name=current.evidence[0].name))
    else:
        checks.ok("the report lists its evidence", False, current)
    refused("GetEvidence of a malformed name", reporting.GetEvidence, reporting_pb2.GetEvidenceRequest(name="evidence/x"), INVALID, ["BadRequest"])
    signer = reporting_pb2.Actor(name="张明", role="局长")
    refused("SubmitReport before it is signed", reporting.SubmitReport, reporting_pb2.SubmitReportRequest(name=report.name, submitter=reporting_pb2.Actor(name="王芳")), grpc.StatusCode.FAILED_PRECONDITION, ["ErrorInfo"])
    accepted("SignReport", reporting.SignReport, reporting_pb2.SignReportRequest(name=report.name, signer=signer, request_id="py-sign-1"))
    refused("SignReport without a signer", reporting.SignReport, reporting_pb2.SignReportRequest(name=report.name), INVALID, ["BadRequest"])
    accepted(
        "SubmitReport",
        reporting.SubmitReport,
        reporting_pb2.SubmitReportRequest(name=report.name, submitter=reporting_pb2.Actor(name="王芳"), as_of="2025-07-05", request_id="py-submit-1"),
    )
    reviewer = reporting_pb2.Actor(name="李华", role="督查室")
    refused("ReturnReport without a reason", reporting.ReturnReport, reporting_pb2.ReturnReportRequest(name=report.name, reviewer=reviewer), INVALID, ["BadRequest"])
    accepted("ReturnReport", reporting.ReturnReport, reporting_pb2.ReturnReportRequest(name=report.name, reviewer=reviewer, reason="数据口径不一致", request_id="py-return-1"))
    refused("AcceptReport of a returned report", reporting.AcceptReport, reporting_pb2.AcceptReportRequest(name=report.name, reviewer=reviewer), grpc.StatusCode.FAILED_PRECONDITION, ["ErrorInfo"])
    accepted(
        "UpdateReport of a returned report",
        reporting.UpdateReport,
        reporting_pb2.UpdateReportRequest(
            report=reporting_pb2.Report(name=report.name, problems="统计口径已按要求统一"),
            update_mask=field_mask_pb2.FieldMask(paths=["problems"]),
            request_id="py-update-2",
        ),
    )
    accepted("SignReport again", reporting.SignReport, reporting_pb2.SignReportRequest(name=report.name, signer=signer, request_id="py-sign-2"))
    accepted(
        "SubmitReport again",
        reporting.SubmitReport,
        reporting_pb2.SubmitReportRequest(name=report.name, submitter=reporting_pb2.Actor(name="王芳"), as_of="2025-07-06", request_id="py-submit-2"),
    )
    accepted("AcceptReport", reporting.AcceptReport, reporting_pb2.AcceptReportRequest(name=report.name, reviewer=reviewer, request_id="py-accept-1"))
    versions = accepted("ListReportVersions", reporting.ListReportVersions, reporting_pb2.ListReportVersionsRequest(parent=report.name))
    checks.ok("ListReportVersions keeps every step", versions is not None and len(versions.versions) >= 6, versions and len(versions.versions))
    refused("ListReportVersions of a missing report", reporting.ListReportVersions, reporting_pb2.ListReportVersionsRequest(parent="reports/999999"), NOT_FOUND, ["ResourceInfo"])
    extension = accepted(
        "CreateExtension",
        reporting.CreateExtension,
        reporting_pb2.CreateExtensionRequest(
            extension=reporting_pb2.Extension(assignment=lead.name, period="2025Q3", requested_due_date="2025-10-20", reason="数据待统计局发布", requester=reporting_pb2.Actor(name="王芳")),
            request_id="py-ext-1",
        ),
    )
    refused(
        "CreateExtension with a bad date",
        reporting.CreateExtension,
        reporting_pb2.CreateExtensionRequest(extension=reporting_pb2.Extension(assignment=lead.name, period="2025Q3", requested_due_date="2025-13-40", reason="x")),
        INVALID,
        ["BadRequest"],
    )
    if extension is not None:
        accepted("DecideExtension", reporting.DecideExtension, reporting_pb2.DecideExtensionRequest(name=extension.name, approve=True, decider=reviewer, request_id="py-decide-1"))
    refused("DecideExtension of a missing extension", reporting.DecideExtension, reporting_pb2.DecideExtensionRequest(name="extensions/999999", approve=True, decider=reviewer), NOT_FOUND, ["ResourceInfo"])
    accepted("ListExtensions", reporting.ListExtensions, reporting_pb2.ListExtensionsRequest())
    refused("ListExtensions with an unknown filter field", reporting.ListExtensions, reporting_pb2.ListExtensionsRequest(filter="colour=red"), INVALID, ["BadRequest"])
    settings_name = f"{plan.name}/supervisionSettings"
    accepted("GetSupervisionSettings", reporting.GetSupervisionSettings, reporting_pb2.GetSupervisionSettingsRequest(name=settings_name))
    refused("GetSupervisionSettings of a malformed name", reporting.GetSupervisionSettings, reporting_pb2.GetSupervisionSettingsRequest(name="plans/x/supervisionSettings"), INVALID, ["BadRequest"])
    accepted(
        "UpdateSupervisionSettings",
        reporting.UpdateSupervisionSettings,
        reporting_pb2.UpdateSupervisionSettingsRequest(
            settings=reporting_pb2.SupervisionSettings(name=settings_name, red_after_overdue_days=10, red_after_behind_periods=2, pace_tolerance_percent=5),
            request_id="py-settings-1",
        ),
    )
    refused(
        "UpdateSupervisionSettings with negative days",
        reporting.UpdateSupervisionSettings,
        reporting_pb2.UpdateSupervisionSettingsRequest(settings=reporting_pb2.SupervisionSettings(name=settings_name, red_after_overdue_days=-1, red_after_behind_periods=2)),
        INVALID,
        ["BadRequest"],
    )
    accepted("ListOverdueItems", reporting.ListOverdueItems, reporting_pb2.ListOverdueItemsRequest(parent=plan.name, as_of="2025-11-20"))
    refused("ListOverdueItems with a bad date", reporting.ListOverdueItems, reporting_pb2.ListOverdueItemsRequest(parent=plan.name, as_of="20-11-2025"), INVALID, ["BadRequest"])
    accepted("ListLights", reporting.ListLights, reporting_pb2.ListLightsRequest(parent=plan.name, period="2025Q2"))
    refused("ListLights with a bad period", reporting.ListLights, reporting_pb2.ListLightsRequest(parent=plan.name, period="2025Q9"), INVALID, ["BadRequest"])
    accepted("GetAggregates", reporting.GetAggregates, reporting_pb2.GetAggregatesRequest(parent=plan.name, period="2025Q2", group_by=reporting_pb2.GROUP_UNIT))
    refused("GetAggregates with a bad period", reporting.GetAggregates, reporting_pb2.GetAggregatesRequest(parent=plan.name, period="Q2", group_by=reporting_pb2.GROUP_UNIT), INVALID, ["BadRequest"])
    bulletin = accepted("GetBulletin", reporting.GetBulletin, reporting_pb2.GetBulletinRequest(parent=plan.name, period="2025Q2", format=reporting_pb2.MARKDOWN))
    checks.ok("GetBulletin has content", bulletin is not None and len(bulletin.content) > 0, bulletin)
    refused("GetBulletin of a missing plan", reporting.GetBulletin, reporting_pb2.GetBulletinRequest(parent="plans/999999", period="2025Q2", format=reporting_pb2.MARKDOWN), NOT_FOUND, ["ResourceInfo"])
    stream = reporting.SubscribeEvents(reporting_pb2.SubscribeEventsRequest(after=0, plan=plan.name), timeout=30)
    try:
        first = next(stream)
        checks.ok("SubscribeEvents: an event of the plan", first.plan == plan.name, first)
    except grpc.RpcError as err:
        checks.ok("SubscribeEvents: an event of the plan", False, f"{err.code().name}: {err.details()}")
    finally:
        stream.cancel()
    try:
        next(reporting.SubscribeEvents(reporting_pb2.SubscribeEventsRequest(after=-1), timeout=30))
        checks.ok("SubscribeEvents from a negative position: INVALID_ARGUMENT", False, "an event came")
    except grpc.RpcError as err:
        checks.ok("SubscribeEvents from a negative position: INVALID_ARGUMENT", err.code() == INVALID, f"{err.code().name}: {err.details()}")

    # audit and tokens
    for service in ("ingest", "targets", "assignments", "reporting"):
        (audit,) = services(args, pb, f"audit:{service}")
        # the chainer moves staged events within about a second
        deadline = time.monotonic() + 20
        events = []
        while time.monotonic() < deadline:
            response = accepted(f"{service} ListAuditEvents", audit.ListAuditEvents, security_pb2.ListAuditEventsRequest(page_size=100))
            events = list(response.events) if response is not None else []
            if events or response is None:
                break
            time.sleep(0.2)
        checks.ok(f"{service} ListAuditEvents: the trail records this run's calls", len(events) > 0, events)
        refused(f"{service} ListAuditEvents with a negative page size", audit.ListAuditEvents, security_pb2.ListAuditEventsRequest(page_size=-1), INVALID, ["BadRequest"])
    accepted("RevokeToken", tokens.RevokeToken, security_pb2.RevokeTokenRequest(token_id="grpcio-test-token", reason="lost", request_id="py-revoke-1"))
    refused("RevokeToken without an id", tokens.RevokeToken, security_pb2.RevokeTokenRequest(), INVALID, ["BadRequest"])
    revocations = accepted("ListRevocations", tokens.ListRevocations, security_pb2.ListRevocationsRequest())
    checks.ok(
        "ListRevocations lists the revoked token",
        revocations is not None and any(r.token_id == "grpcio-test-token" for r in revocations.revocations),
        revocations,
    )
    refused("ListRevocations since a negative position", tokens.ListRevocations, security_pb2.ListRevocationsRequest(since_seq=-1), INVALID, ["BadRequest"])
    covered["accepted"].add("SubscribeEvents")
    covered["refused"].add("SubscribeEvents")
    for outcome in ("accepted", "refused"):
        missing = sorted(methods - covered[outcome])
        checks.ok(f"every one of the {len(methods)} RPCs {outcome} at least once", not missing, f"not {outcome}: {missing}")


def outage(args, pb, checks):
    """Writes while the database is down answer UNAVAILABLE with RetryInfo, the code gRPC's
    standard retry policy retries (issue 23, item 1)."""
    from duban.v1 import common_pb2

    ingest_pb2 = pb["ingest"][0]
    targets_pb2 = pb["targets"][0]
    assignments_pb2 = pb["assignments"][0]
    reporting_pb2 = pb["reporting"][0]
    ingest, targets, assignments, reporting = services(args, pb, "ingest", "targets", "assignments", "reporting")
    UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
    writes = [
        ("CreateDocument", ingest.CreateDocument, ingest_pb2.CreateDocumentRequest(content="一、目标\n地区生产总值增长6%".encode(), filename="a.txt")),
        ("CreatePlan", targets.CreatePlan, targets_pb2.CreatePlanRequest(plan=targets_pb2.Plan(title="停库测试方案", year=2025), tasks=[targets_pb2.Task(text="新增市场主体1000户以上")])),
        (
            "CreateAssignments",
            assignments.CreateAssignments,
            assignments_pb2.CreateAssignmentsRequest(task="plans/1/tasks/1", assignments=[assignments_pb2.AssignmentInput(written_name="区发改局", role=common_pb2.LEAD)]),
        ),
        ("CreateReport", reporting.CreateReport, reporting_pb2.CreateReportRequest(report=reporting_pb2.Report(assignment="assignments/1", period="2025Q2"))),
    ]
    for name, call, request in writes:
        details = checks.refused(f"{name} while the database is down", call, request, UNAVAILABLE, ["RetryInfo"])
        if "RetryInfo" in details:
            delay = details["RetryInfo"].retry_delay
            checks.ok(f"{name} while the database is down: a retry delay", delay.seconds > 0 or delay.nanos > 0, delay)



def over_budget(args, pb, checks):
    """A document whose extraction outlasts the ingest service's budget (the set runs with 1 ms)
    is refused with RESOURCE_EXHAUSTED and an ErrorInfo naming the limit, the setting and the
    document kept as FAILED; a retry under the same request_id is refused the same way, and
    nothing of it is delivered (issue 29)."""
    ingest_pb2 = pb["ingest"][0]
    (ingest,) = services(args, pb, "ingest")
    with open(args.seed, encoding="utf-8") as f:
        seed = f.read()
    # the notice sixteen times over on one line: far more than a millisecond of work
    content = (seed.replace("\n", " ") * 16).encode("utf-8")
    request = ingest_pb2.CreateDocumentRequest(content=content, filename="long.txt", request_id="grpcio-over-budget")
    for attempt in ("first", "retried"):
        name = f"CreateDocument over the extraction budget ({attempt})"
        details = checks.refused(name, ingest.CreateDocument, request, grpc.StatusCode.RESOURCE_EXHAUSTED, ["ErrorInfo"])
        info = details.get("ErrorInfo")
        if info is not None:
            checks.ok(f"{name}: reason", info.reason == "EXTRACTION_BUDGET_EXCEEDED", info.reason)
            checks.ok(f"{name}: domain", info.domain == "duban.gov", info.domain)
            metadata = dict(info.metadata)
            checks.ok(f"{name}: names the kept document", metadata.get("document") == "documents/1", metadata)
            checks.ok(f"{name}: names the budget", metadata.get("budget_ms") == "1", metadata)
            checks.ok(f"{name}: names the setting", metadata.get("setting") == "DUBAN_INGEST_EXTRACT_BUDGET_MS", metadata)
    failed = ingest.ListDocuments(ingest_pb2.ListDocumentsRequest(filter="delivery_state=FAILED"), timeout=30).documents
    checks.ok("the document is kept as FAILED, once", [d.name for d in failed] == ["documents/1"], [d.name for d in failed])
    if failed:
        doc = failed[0]
        checks.ok("the FAILED document holds nothing read", (doc.plan_count, doc.item_count) == (0, 0), (doc.plan_count, doc.item_count))
        checks.ok("the FAILED document says why", "1 ms budget" in doc.delivery_error, doc.delivery_error)
    for state in ("DELIVERED", "PENDING"):
        listed = ingest.ListDocuments(ingest_pb2.ListDocumentsRequest(filter=f"delivery_state={state}"), timeout=30).documents
        checks.ok(f"no document is {state}", not listed, [d.name for d in listed])


COMMON = {
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "duban.v1.AuditService",
}
HOSTED = {
    "ingest": {"duban.v1.IngestService"},
    "targets": {"duban.v1.TargetsService"},
    "assignments": {"duban.v1.AssignmentsService", "duban.v1.TokenService"},
    "reporting": {"duban.v1.ReportingService"},
}


def reflection(args, pb, checks):
    """Both reflection versions list exactly what each port serves (issue 23, items 2 and 3),
    and grpcio-reflection's descriptor database resolves the port's own service from them."""
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha import reflection_pb2
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    for service, hosted in HOSTED.items():
        expected = hosted | COMMON
        address = getattr(args, service)
        ch = channel(address, args.ca)
        metadata = bearer(args, "supervisor")
        for version in ("v1", "v1alpha"):
            # The two versions exchange the same messages under different service names.
            call = ch.stream_stream(
                f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            name = f"{service} reflection {version} list"
            try:
                responses = list(
                    call(
                        iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                        metadata=metadata,
                        timeout=30,
                    )
                )
                listed = {s.name for r in responses for s in r.list_services_response.service}
                checks.ok(name, listed == expected, f"listed {sorted(listed)}, expected {sorted(expected)}")
            except grpc.RpcError as err:
                checks.ok(name, False, f"{err.code().name}: {err.details()}")
        if metadata is None:
            database = ProtoReflectionDescriptorDatabase(ch)
            pool = DescriptorPool(database)
            for full_name in sorted(hosted):
                try:
                    methods = pool.FindServiceByName(full_name).methods
                    checks.ok(f"{service} reflection resolves {full_name}", len(methods) > 0, "no methods")
                except Exception as err:  # noqa: BLE001 (any failure to resolve is the finding)
                    checks.ok(f"{service} reflection resolves {full_name}", False, repr(err))


def mtls_recipe(args, pb, checks):
    """The README's mutual-TLS recipe, with the certificates its openssl lines made: a
    supervisor's certificate is the caller, a call without one fails the handshake, and an
    admin's certificate revokes the supervisor's by its serial."""
    import time

    from duban.v1 import security_pb2, security_pb2_grpc

    targets_pb2, targets_grpc = pb["targets"]
    folder = args.recipe

    def read(name):
        with open(f"{folder}/{name}", "rb") as f:
            return f.read()

    def with_certificate(address, who):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read("ca.pem"), private_key=read(f"{who}.key"), certificate_chain=read(f"{who}.pem")
        )
        return grpc.secure_channel(address, credentials)

    supervisor = targets_grpc.TargetsServiceStub(with_certificate(args.targets, "sup"))
    try:
        supervisor.ListPlans(targets_pb2.ListPlansRequest(), timeout=30)
        checks.ok("ListPlans with the supervisor's certificate: OK", True)
    except grpc.RpcError as err:
        checks.ok("ListPlans with the supervisor's certificate: OK", False, f"{err.code().name}: {err.details()}")
    checks.refused(
        "ListPlans without a client certificate",
        targets_grpc.TargetsServiceStub(channel(args.targets, f"{folder}/ca.pem")).ListPlans,
        targets_pb2.ListPlansRequest(),
        grpc.StatusCode.UNAVAILABLE,
    )
    serial = read("serial.txt").decode().strip()
    tokens = security_pb2_grpc.TokenServiceStub(with_certificate(args.assignments, "admin"))
    try:
        tokens.RevokeToken(security_pb2.RevokeTokenRequest(token_id=f"cert:{serial}", reason="lost"), timeout=30)
        checks.ok("RevokeToken of cert:<serial> with the admin's certificate: OK", True)
    except grpc.RpcError as err:
        checks.ok("RevokeToken of cert:<serial> with the admin's certificate: OK", False, f"{err.code().name}: {err.details()}")
    # targets polls the revocation list (every second here)
    deadline = time.monotonic() + 30
    code = None
    while time.monotonic() < deadline:
        try:
            supervisor.ListPlans(targets_pb2.ListPlansRequest(), timeout=30)
        except grpc.RpcError as err:
            code = err.code()
            if code == grpc.StatusCode.UNAUTHENTICATED:
                break
        time.sleep(0.2)
    checks.ok("the revoked certificate: UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED, code)


def scope_table(args, pb, checks):
    import scope

    scope.scope_table(args, pb, checks, services)


SUITES = {
    "mtls-recipe": mtls_recipe,
    "scope-table": scope_table,
    "refused-writes": refused_writes,
    "reflection": reflection,
    "bounded-errors": bounded_errors,
    "every-rpc": every_rpc,
    "outage": outage,
    "over-budget": over_budget,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stubs", required=True)
    for service in ("ingest", "targets", "assignments", "reporting"):
        parser.add_argument(f"--{service}", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--token", action="append", help="ROLE=JWT, once per role")
    parser.add_argument("--seed", help="a document to ingest (every-rpc, scope-table, over-budget)")
    parser.add_argument("--recipe", help="the folder the README's openssl lines ran in (mtls-recipe)")
    parser.add_argument("suite", choices=sorted(SUITES))
    args = parser.parse_args()
    checks = Checks()
    SUITES[args.suite](args, stubs(args.stubs), checks)
    print(f"{checks.count - len(checks.failures)} of {checks.count} checks passed")
    if checks.failures:
        print("failed: " + "; ".join(checks.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
