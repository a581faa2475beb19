"""Splits a rendering of deploy/k8s/overlays/podman for `podman kube play`, which runs Pods and
Deployments but neither Jobs nor gRPC probes (podman 4.3):

    podman_play.py RENDERED OUT_DIR

writes OUT_DIR/migrate.yaml (the ConfigMaps, and each Job's pod template as a Pod that runs
once),
OUT_DIR/services.yaml (the ConfigMaps and Deployments) and prints one line per gRPC probe,
"DEPLOYMENT CONTAINER PROBE PORT SERVICE", for scripts/container-test to run through the image's
own `duban health`, as the kubelet would.
"""

import sys
from pathlib import Path

import yaml

rendered, out = Path(sys.argv[1]), Path(sys.argv[2])
docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]

jobs = []
for job in (d for d in docs if d["kind"] == "Job"):
    spec = dict(job["spec"]["template"]["spec"])
    spec["restartPolicy"] = "Never"
    jobs.append({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": job["metadata"]["name"], "labels": job["spec"]["template"]["metadata"]["labels"]},
        "spec": spec,
    })
configmaps = [d for d in docs if d["kind"] == "ConfigMap"]
played = configmaps + [d for d in docs if d["kind"] == "Deployment"]
(out / "migrate.yaml").write_text(yaml.safe_dump_all(configmaps + jobs, sort_keys=False))
(out / "services.yaml").write_text(yaml.safe_dump_all(played, sort_keys=False))

for deployment in (d for d in docs if d["kind"] == "Deployment"):
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            grpc = container.get(probe, {}).get("grpc")
            if grpc is None:
                sys.exit(f"{deployment['metadata']['name']}: {probe} is not a gRPC probe")
            print(deployment["metadata"]["name"], container["name"], probe, grpc["port"], grpc.get("service", ""))
