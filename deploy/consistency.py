"""What the schemas cannot see: the deployment files agree with the code and with each other
(binaries, ports, health service names, variable names). Called by deploy/check with the rendered
base and production manifests; exits non-zero listing every disagreement."""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = {
    # name: (gRPC port, metrics port, gRPC service)
    "ingest": (50051, 9101, "duban.v1.IngestService"),
    "targets": (50052, 9102, "duban.v1.TargetsService"),
    "assignments": (50053, 9103, "duban.v1.AssignmentsService"),
    "reporting": (50054, 9104, "duban.v1.ReportingService"),
}
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def rust_sources():
    for folder in ("crates", "services"):
        yield from (ROOT / folder).rglob("*.rs")


# Every variable the code reads: clap's `env = "..."` and direct reads of the environment.
known_vars = set()
for path in rust_sources():
    text = path.read_text()
    known_vars.update(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
    known_vars.update(re.findall(r'env::var(?:_os)?\("([A-Z0-9_]+)"\)', text))
liveness = re.search(r'pub const LIVENESS: &str = "([^"]+)"', (ROOT / "crates/kit/src/server.rs").read_text())
check(liveness, "crates/kit/src/server.rs no longer defines LIVENESS")
liveness = liveness.group(1) if liveness else "liveness"


def check_vars(names, where):
    for name in names:
        check(name in known_vars, f"{where}: {name} is read by no code")


# The services' own defaults.
for name, (port, metrics, _) in SERVICES.items():
    lib = (ROOT / f"services/{name}/src/lib.rs").read_text()
    up = name.upper()
    check(f'env = "DUBAN_{up}_ADDR"' in lib and f'"127.0.0.1:{port}"' in lib,
          f"services/{name}: default address is not 127.0.0.1:{port}")
    check(f'env = "DUBAN_{up}_METRICS_ADDR"' in lib and f'"127.0.0.1:{metrics}"' in lib,
          f"services/{name}: default metrics address is not 127.0.0.1:{metrics}")

# The shared environment file.
env_file = ROOT / "deploy/k8s/base/duban.env"
env_vars = [line.split("=", 1)[0] for line in env_file.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
check_vars(env_vars, "duban.env")

# The image.
dockerfile = (ROOT / "deploy/Dockerfile").read_text()
built = set(re.findall(r"--bin (\S+)", dockerfile))
check(built == {"duban"} | {f"duban-{n}" for n in SERVICES}, f"Dockerfile builds {sorted(built)}")
image_env = dict(re.findall(r"\b(DUBAN_[A-Z_]+)=(\S+)", dockerfile))
check_vars(image_env, "Dockerfile ENV")
for name, (port, metrics, _) in SERVICES.items():
    up = name.upper()
    check(image_env.get(f"DUBAN_{up}_ADDR") == f"0.0.0.0:{port}", f"Dockerfile: DUBAN_{up}_ADDR")
    check(image_env.get(f"DUBAN_{up}_METRICS_ADDR") == f"0.0.0.0:{metrics}",
          f"Dockerfile: DUBAN_{up}_METRICS_ADDR")

# Compose.
compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())["services"]
check(compose["migrate"]["command"] == ["duban", "migrate"], "compose: migrate runs duban migrate")
for name, (port, metrics, grpc) in SERVICES.items():
    service = compose.get(f"duban-{name}")
    check(service is not None, f"compose: no service duban-{name}")
    if service is None:
        continue
    where = f"compose duban-{name}"
    check(service["command"] == [f"duban-{name}", "serve"], f"{where}: command")
    check(set(service["ports"]) == {f"{port}:{port}", f"{metrics}:{metrics}"}, f"{where}: ports")
    check(service["healthcheck"]["test"] == ["CMD", "duban", "health", "--addr", f"127.0.0.1:{port}", "--service", grpc],
          f"{where}: health check")
    check(service["env_file"] == ["k8s/base/duban.env"], f"{where}: env_file")
    check_vars(service["environment"], where)
    check(service["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
          f"{where}: must wait for the migration")

# The rendered Kubernetes manifests.
for rendered in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    label = pathlib.Path(rendered).stem
    configmaps = by_kind.get("ConfigMap", {})
    check(len(configmaps) == 1, f"{label}: one ConfigMap expected")
    for configmap in configmaps.values():
        check_vars(configmap.get("data", {}), f"{label} ConfigMap")
    job = by_kind.get("Job", {}).get("duban-migrate")
    check(job and job["spec"]["template"]["spec"]["containers"][0]["command"] == ["duban", "migrate"],
          f"{label}: the migration Job runs duban migrate")
    for name, (port, metrics, grpc) in SERVICES.items():
        full = f"duban-{name}"
        where = f"{label} {full}"
        deployment = by_kind.get("Deployment", {}).get(full)
        check(deployment is not None, f"{where}: no Deployment")
        if deployment is None:
            continue
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        check(container["command"] == [full], f"{where}: command")
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        check(annotations.get("prometheus.io/port") == str(metrics), f"{where}: scrape annotation")
        check({p["name"]: p["containerPort"] for p in container["ports"]} == {"grpc": port, "metrics": metrics},
              f"{where}: container ports")
        check(container["readinessProbe"]["grpc"] == {"port": port, "service": grpc}, f"{where}: readiness")
        for probe in ("livenessProbe", "startupProbe"):
            check(container[probe]["grpc"] == {"port": port, "service": liveness}, f"{where}: {probe}")
        resources = container.get("resources", {})
        check("requests" in resources and "memory" in resources.get("limits", {}), f"{where}: resources")
        refs = [e.get("configMapRef", {}).get("name") for e in container["envFrom"]]
        check(any(r in configmaps for r in refs), f"{where}: its ConfigMap is missing")
        check({"secretRef": {"name": "duban-database"}} in container["envFrom"], f"{where}: secret")
        service = by_kind.get("Service", {}).get(full, {})
        check(service.get("spec", {}).get("clusterIP") == "None", f"{where}: Service must be headless")
        check({p["name"]: p["port"] for p in service.get("spec", {}).get("ports", [])} == {"grpc": port, "metrics": metrics},
              f"{where}: Service ports")
        check(full in by_kind.get("PodDisruptionBudget", {}), f"{where}: no PodDisruptionBudget")
        hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(full)
        check(hpa and hpa["spec"]["scaleTargetRef"]["name"] == full, f"{where}: no HorizontalPodAutoscaler")

if problems:
    print("deploy/consistency.py: the deployment files disagree with the code:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
print("deploy/consistency.py: ok")
