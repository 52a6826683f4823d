"""A small kustomize-compatible renderer for deploy/k8s (no kubectl or kustomize binary reaches CI).

It renders the subset of kustomize the manifests use, and refuses any other field, so it never renders
something kustomize would render differently: `resources` (files, and folders with a kustomization),
`namespace`, `labels` (pairs, added to metadata only, as with `includeSelectors: false`), `images`,
`replicas` and `patches` (strategic-merge patch files; lists of named items merged by `name`).
`python -m testing.kustomize deploy/k8s/overlays/production` prints the YAML, as `kubectl kustomize`.
"""

import copy
import sys
from pathlib import Path

import yaml

KNOWN = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "patches"}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


def render(folder: Path) -> list[dict]:
    folder = Path(folder)
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN
    if unknown:
        raise ValueError(f"{folder}: kustomization fields not supported here: {sorted(unknown)}")
    documents: list[dict] = []
    for entry in spec.get("resources", []):
        path = folder / entry
        if path.is_dir():
            documents.extend(render(path))
        else:
            documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for patch in spec.get("patches", []):
        if set(patch) != {"path"}:
            raise ValueError(f"{folder}: only file patches are supported: {patch}")
        body = yaml.safe_load((folder / patch["path"]).read_text())
        target = _find(documents, body["kind"], body["metadata"]["name"])
        _merge(target, body)
    for replicas in spec.get("replicas", []):
        scalable = [d for d in documents if d["kind"] in SCALABLE]
        _find(scalable, None, replicas["name"])["spec"]["replicas"] = replicas["count"]
    for label in spec.get("labels", []):
        if label.get("includeSelectors") or label.get("includeTemplates"):
            raise ValueError("labels with includeSelectors/includeTemplates are not supported here")
        for document in documents:
            document.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    if "namespace" in spec:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        for container in _containers(documents):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"
    return documents


def _find(documents: list[dict], kind: str | None, name: str) -> dict:
    found = [d for d in documents if d["metadata"]["name"] == name and (kind is None or d["kind"] == kind)]
    if len(found) != 1:
        raise ValueError(f"no single resource {kind or '*'}/{name} to change")
    return found[0]


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list) and all("name" in i for i in value):
            by_name = {item["name"]: item for item in target[key]}
            for item in value:
                if item["name"] in by_name:
                    _merge(by_name[item["name"]], item)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _containers(documents: list[dict]):
    for document in documents:
        spec = document.get("spec", {})
        pod = spec.get("template", {}).get("spec", {}) if "template" in spec else None
        if document["kind"] == "CronJob":
            pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        if pod:
            yield from pod.get("containers", [])
            yield from pod.get("initContainers", [])


if __name__ == "__main__":
    print(yaml.safe_dump_all(render(Path(sys.argv[1])), sort_keys=False), end="")
