#!/usr/bin/env python3
"""`docker run` arguments that run a container the way a Kubernetes manifest runs it.

    k8s_docker_args.py MANIFEST CONTAINER [--configmap NAME=DIR ...]   docker run arguments,
                                                                       one per line
    k8s_docker_args.py MANIFEST CONTAINER --grace                      terminationGracePeriodSeconds

make test-deploy (deploy/local/test_deploy.sh) starts every hret container with these, so the
security settings the container test exercises are the manifests' own, not a copy:
runAsUser/runAsGroup -> --user, readOnlyRootFilesystem -> --read-only, capabilities.drop ALL ->
--cap-drop ALL, allowPrivilegeEscalation: false -> no-new-privileges, seccompProfile
RuntimeDefault -> Docker's default profile, emptyDir -> a tmpfs owned by the pod's user and
fsGroup, a configMap volume -> DIR mounted read-only at its mountPath, terminationGracePeriodSeconds
-> --stop-timeout, plain env values -> -e. A setting it cannot translate is an error, so a
manifest change cannot drift from what the test runs. The container's args follow the image
name (the caller adds both).
"""
import sys

import yaml

POD_KEYS = {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile"}
CONTAINER_KEYS = {"allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities",
                  "runAsNonRoot"}


def die(msg):
    sys.exit(f"k8s_docker_args: {msg}")


def pod_spec(obj):
    kind = obj.get("kind")
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def find(manifest, name):
    for obj in yaml.safe_load_all(open(manifest, encoding="utf-8")):
        spec = pod_spec(obj or {})
        for c in (spec or {}).get("containers", []):
            if c["name"] == name:
                return spec, c
    die(f"no container {name} in {manifest}")


def security_args(pod, c):
    psc = pod.get("securityContext", {})
    csc = c.get("securityContext", {})
    for k in set(psc) - POD_KEYS:
        die(f"pod securityContext.{k}: not translated")
    for k in set(csc) - CONTAINER_KEYS:
        die(f"container securityContext.{k}: not translated")
    uid, gid = psc.get("runAsUser"), psc.get("runAsGroup", psc.get("runAsUser"))
    if uid is None or uid == 0:
        die("no non-root runAsUser")
    if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
        die("runAsNonRoot is not set")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        die("seccompProfile is not RuntimeDefault (Docker's default profile)")
    args = ["--user", f"{uid}:{gid}"]
    if csc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if csc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    caps = csc.get("capabilities", {})
    for k in set(caps) - {"drop", "add"}:
        die(f"capabilities.{k}: not translated")
    args += [a for d in caps.get("drop", []) for a in ("--cap-drop", d)]
    args += [a for d in caps.get("add", []) for a in ("--cap-add", d)]
    return args, uid, psc.get("fsGroup", gid)


def volume_args(pod, c, uid, gid, configmaps):
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    args = []
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        path = m["mountPath"]
        if "emptyDir" in v:
            args += ["--tmpfs", f"{path}:rw,nosuid,nodev,uid={uid},gid={gid},mode=0770"]
        elif "configMap" in v:
            cm = v["configMap"]["name"]
            if cm not in configmaps:
                die(f"configMap {cm} mounted at {path}: give --configmap {cm}=DIR")
            if not m.get("readOnly"):
                die(f"configMap {cm} at {path} is not mounted readOnly")
            args += ["-v", f"{configmaps[cm]}:{path}:ro"]
        else:
            die(f"volume {m['name']}: only emptyDir and configMap are translated")
    return args


def main(argv):
    if len(argv) < 3:
        die("usage: k8s_docker_args.py MANIFEST CONTAINER [--grace | --configmap NAME=DIR ...]")
    manifest, name, rest = argv[1], argv[2], argv[3:]
    pod, c = find(manifest, name)
    if rest == ["--grace"]:
        print(pod.get("terminationGracePeriodSeconds", 30))
        return 0
    configmaps = {}
    while rest:
        if rest[0] != "--configmap" or len(rest) < 2 or "=" not in rest[1]:
            die(f"bad argument {rest[0]}")
        k, _, v = rest[1].partition("=")
        configmaps[k] = v
        rest = rest[2:]
    args, uid, gid = security_args(pod, c)
    args += volume_args(pod, c, uid, gid, configmaps)
    args += ["--stop-timeout", str(pod.get("terminationGracePeriodSeconds", 30))]
    for e in c.get("env", []):
        if "value" in e:
            args += ["-e", f"{e['name']}={e['value']}"]
    print("\n".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
