"""An OTLP/gRPC trace receiver: grpcio serving the TraceService of opentelemetry-proto (the
OpenTelemetry project's own definitions), as a collector does. Prints {"port": N} once it
listens on 127.0.0.1, then one JSON line per span received, until killed."""
import json
import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        for resource_spans in request.resource_spans:
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    line = {"service": service, "name": span.name, "trace_id": span.trace_id.hex()}
                    print(json.dumps(line), flush=True)
        return trace_service_pb2.ExportTraceServiceResponse()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Receiver(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(json.dumps({"port": port}), flush=True)
threading.Event().wait()
