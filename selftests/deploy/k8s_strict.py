#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Unknown-field check of Kubernetes objects (kubeconform's -strict), with
the API field lists of Debian's python3-kubernetes (client 22.6: the
Kubernetes 1.22 API). The JSON schemas of kubernetes-models check types,
required fields and formats but, like the API's own OpenAPI, accept unknown
fields, which the API server drops with only a warning: a misspelt
`readOnly` would silently mount read-write.

Reads a JSON array of objects on stdin; prints one line per unknown field,
"<index>\t<path>\t<message>"; exits 0 (the caller counts the lines).
"""
import json
import re
import sys

import kubernetes.client as kc

KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
}


def walk(value, typ, path, out):
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, m.group(1), f"{path}[{i}]", out)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, m.group(1), f"{path}.{k}", out)
        return
    cls = getattr(kc, typ, None)
    if cls is None or not isinstance(value, dict):
        return  # scalar or free-form (object, IntOrString, Quantity)
    by_json = {j: a for a, j in cls.attribute_map.items()}
    for k, v in value.items():
        if k not in by_json:
            out.append((path, f"unknown field {k!r} in {typ}"))
            continue
        walk(v, cls.openapi_types[by_json[k]], f"{path}.{k}", out)


def main():
    docs = json.load(sys.stdin)
    for i, d in enumerate(docs):
        name = KINDS.get((d.get("apiVersion"), d.get("kind")))
        if name is None:
            continue
        out = []
        walk(d, name, d["kind"], out)
        for path, msg in out:
            print(f"{i}\t{path}\t{msg}")


if __name__ == "__main__":
    main()
