"""deploy/k8s: the base and the production overlay render (testing.kustomize, the kustomize subset they
use; no kubectl in CI) and every resource validates against the Kubernetes schemas offline
(kubernetes-validate, strict: unknown fields fail); then what the issue asks of each resource."""

from pathlib import Path

import kubernetes_validate  # requirements-dev.txt: a missing validator fails the run, never skips it
import pytest

from testing.kustomize import render

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSION = "1.33"


def _by_kind(documents) -> dict:
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


@pytest.mark.parametrize("folder", ["base", "overlays/production"])
def test_every_rendered_resource_is_valid_against_the_kubernetes_schemas(folder):
    documents = render(K8S / folder)

    assert len(documents) >= 9
    for document in documents:
        kubernetes_validate.validate(document, VERSION, strict=True)


def test_strict_validation_catches_a_misspelt_field():
    web = _by_kind(render(K8S / "base"))[("Deployment", "csn-web")]
    web["spec"]["replica"] = 3

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, VERSION, strict=True)


def test_the_web_deployment_probes_drains_and_is_sized():
    resources = _by_kind(render(K8S / "base"))
    web = resources[("Deployment", "csn-web")]
    pod = web["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"configMapRef", "secretRef"} <= {key for source in container["envFrom"] for key in source}
    config = resources[("ConfigMap", "csn-config")]["data"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > pre_stop + float(config["CSN_LIVE_DRAIN_SECONDS"])
    assert {port["name"] for port in container["ports"]} == {"http", "metrics"}
    service_ports = {port["targetPort"] for port in resources[("Service", "csn-web")]["spec"]["ports"]}
    assert service_ports == {"http"}  # the metrics port is scraped on the pod, never routed


def test_autoscaling_disruption_budget_beat_migrations_and_ingress():
    resources = _by_kind(render(K8S / "base"))
    web_labels = resources[("Deployment", "csn-web")]["spec"]["template"]["metadata"]["labels"]

    hpa = resources[("HorizontalPodAutoscaler", "csn-web")]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "csn-web"}
    assert hpa["minReplicas"] >= 2
    pdb = resources[("PodDisruptionBudget", "csn-web")]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= web_labels.items()
    beat = resources[("Deployment", "csn-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    assert ("Deployment", "csn-worker") in resources
    job = resources[("Job", "csn-migrate")]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["python", "manage.py", "migrate", "--noinput"]
    annotations = resources[("Ingress", "csn")]["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_the_production_overlay_pins_the_image_and_scales_up():
    resources = _by_kind(render(K8S / "overlays" / "production"))

    assert {d["metadata"]["namespace"] for d in resources.values()} == {"csn"}
    images = {
        container["image"]
        for d in resources.values()
        if d["kind"] in {"Deployment", "Job"}
        for container in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/csn:1.0.0"}
    assert resources[("Deployment", "csn-web")]["spec"]["replicas"] == 4
    assert resources[("HorizontalPodAutoscaler", "csn-web")]["spec"]["maxReplicas"] == 40
    web = resources[("Deployment", "csn-web")]["spec"]["template"]["spec"]["containers"][0]
    assert web["resources"]["requests"]["memory"] == "768Mi"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"  # the patch merged, did not replace
