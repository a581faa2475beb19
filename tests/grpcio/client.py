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


def refused_writes(args, pb, checks):
    """Writes the services refuse, each with its real code and details (issue 23, item 1)."""
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    ingest_pb2, ingest_grpc = pb["ingest"]
    assignments_pb2, assignments_grpc = pb["assignments"]
    reporting_pb2, reporting_grpc = pb["reporting"]
    ingest = ingest_grpc.IngestServiceStub(channel(args.ingest, args.ca))
    assignments = assignments_grpc.AssignmentsServiceStub(channel(args.assignments, args.ca))
    reporting = reporting_grpc.ReportingServiceStub(channel(args.reporting, args.ca))

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
        metadata,
    )
    checks.refused(
        "CreateReport with a bad period",
        reporting.CreateReport,
        reporting_pb2.CreateReportRequest(
            report=reporting_pb2.Report(assignment="assignments/1", period="2025Q7")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        ["BadRequest"],
        metadata,
    )


def bounded_errors(args, pb, checks):
    """Errors quote what the caller sent only up to a bound, and inputs that travel to SQL are
    bounded before they get there (issue 23, items 4 and 5)."""
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    assignments_pb2, assignments_grpc = pb["assignments"]
    targets_pb2, targets_grpc = pb["targets"]
    assignments = assignments_grpc.AssignmentsServiceStub(channel(args.assignments, args.ca))
    targets = targets_grpc.TargetsServiceStub(channel(args.targets, args.ca))

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
        metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
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


SUITES = {
    "refused-writes": refused_writes,
    "reflection": reflection,
    "bounded-errors": bounded_errors,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stubs", required=True)
    for service in ("ingest", "targets", "assignments", "reporting"):
        parser.add_argument(f"--{service}", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--token")
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
