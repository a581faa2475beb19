"""A grpcurl for machines without it, on Python's grpcio: the subset of grpcurl's command line the
README uses, answering the same way. It knows nothing of duban: like grpcurl, it learns every
service, method and message from the server's reflection, so it proves reflection too.

    grpcurl.py [-plaintext] [-max-time SECONDS] [-d JSON] HOST:PORT list [SERVICE]
    grpcurl.py [-plaintext] [-max-time SECONDS] [-d JSON] HOST:PORT SERVICE/METHOD

Output as grpcurl's: each response message as indented JSON with lowerCamelCase names. A failed
call prints "ERROR:" with the code and message to stderr and exits 64 + the gRPC code, as
grpcurl does. Needs grpcio, grpcio-reflection and protobuf (tests/grpcio/requirements.txt).
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def usage(message):
    print(f"grpcurl.py: {message}", file=sys.stderr)
    sys.exit(2)


def parse(argv):
    options = {"plaintext": False, "max_time": None, "data": None}
    rest = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-plaintext":
            options["plaintext"] = True
        elif arg in ("-d", "-max-time"):
            if i + 1 == len(argv):
                usage(f"{arg} needs a value")
            i += 1
            if arg == "-d":
                options["data"] = argv[i]
            else:
                options["max_time"] = float(argv[i])
        elif arg.startswith("-"):
            usage(f"unsupported flag {arg}")
        else:
            rest.append(arg)
        i += 1
    if not rest:
        usage("no address")
    return options, rest[0], rest[1:]


def main():
    options, address, rest = parse(sys.argv[1:])
    if not options["plaintext"]:
        usage("only -plaintext is supported")
    channel = grpc.insecure_channel(address)
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = descriptor_pool.DescriptorPool(database)

    if not rest or rest[0] == "list":
        if len(rest) < 2:
            for name in sorted(database.get_services()):
                print(name)
        else:
            service = pool.FindServiceByName(rest[1])
            for method in service.methods:
                print(f"{service.full_name}.{method.name}")
        return

    target = rest[0].replace("/", ".")
    service_name, _, method_name = target.rpartition(".")
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    request = json_format.Parse(options["data"] or "{}", request_class())
    path = f"/{service_name}/{method_name}"
    arguments = {
        "request_serializer": request_class.SerializeToString,
        "response_deserializer": response_class.FromString,
    }
    try:
        if method.client_streaming:
            usage("client streaming is not supported")
        if method.server_streaming:
            call = channel.unary_stream(path, **arguments)
            responses = call(request, timeout=options["max_time"])
        else:
            call = channel.unary_unary(path, **arguments)
            responses = [call(request, timeout=options["max_time"])]
        for response in responses:
            print(json.dumps(json_format.MessageToDict(response), indent=2, ensure_ascii=False))
            sys.stdout.flush()
    except grpc.RpcError as err:
        print(f"ERROR:\n  Code: {err.code().name}\n  Message: {err.details()}", file=sys.stderr)
        sys.exit(64 + err.code().value[0])


if __name__ == "__main__":
    main()
