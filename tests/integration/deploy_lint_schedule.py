"""deploy_lint.py's checks of scheduled evaluation (issue 24): the Kubernetes CronJob
(deploy/k8s/80-cronjob-nightly.yaml) and the systemd timer (deploy/systemd/hret-nightly.*).

Both run `hret submit FILE --wait` with a request file (ConfigMap hret-nightly-request mounted
read-only / /etc/hret/nightly-request.yaml) that carries no request_id, so each run is a new
request. The CronJob's request is written to OUT/nightly_request.yaml for the shell part of the
test (hret submit --dry-run on it against the ConfigMap's config).
"""
import os
import shlex

import yaml


def submit_file(where, args, err):
    """The request file of `submit FILE --wait ...`, or None."""
    if not args or args[0] != "submit":
        err(where, f"does not run `hret submit`: {args}")
        return None
    files = [a for a in args[1:] if a.endswith((".yaml", ".yml", ".json"))]
    if len(files) != 1 or "--wait" not in args:
        err(where, f"want `submit FILE --wait`: {args}")
        return None
    return files[0]


def check_cronjob(kinds, out, err):
    crons = kinds.get("CronJob", [])
    if len(crons) != 1:
        err("deploy/k8s", f"want one CronJob (scheduled evaluation), found {len(crons)}")
        return
    where, cj = crons[0]
    spec = cj["spec"]
    if spec.get("concurrencyPolicy") != "Forbid":
        err(where, "concurrencyPolicy is not Forbid (a slow night would overlap the next)")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        err(where, "restartPolicy is not Never (a restart in place would resend the request)")
    c = pod["containers"][0]
    path = submit_file(where, c.get("args", []), err)
    if path is None:
        return
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        if not path.startswith(m["mountPath"].rstrip("/") + "/"):
            continue
        cm = vols[m["name"]].get("configMap", {}).get("name")
        key = path[len(m["mountPath"].rstrip("/")) + 1:]
        maps = [o for _, o in kinds.get("ConfigMap", []) if o["metadata"]["name"] == cm]
        if not maps or key not in maps[0].get("data", {}):
            err(where, f"{path}: no key {key} in ConfigMap {cm}")
            return
        text = maps[0]["data"][key]
        if "request_id" in (yaml.safe_load(text) or {}):
            err(where, f"{path} has a request_id: every night would repeat the first request")
        with open(os.path.join(out, "nightly_request.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
        return
    err(where, f"{path} is not on a ConfigMap mount")


def check_timer(src, units, err):
    """units: {file name: {(section, key): [values]}} of deploy/systemd."""
    timers = [n for n in units if n.endswith(".timer")]
    if not timers:
        err("deploy/systemd", "no timer (scheduled evaluation)")
    for t in timers:
        kv = units[t]
        svc = kv.get(("Timer", "Unit"), [t[:-len(".timer")] + ".service"])[-1]
        if svc not in units:
            err(f"deploy/systemd/{t}", f"starts {svc}, which is not in deploy/systemd")
            continue
        if not kv.get(("Timer", "OnCalendar")):
            err(f"deploy/systemd/{t}", "no OnCalendar")
        s = units[svc]
        if s.get(("Service", "Type"), [""])[-1] != "oneshot":
            err(f"deploy/systemd/{svc}", "not Type=oneshot")
        argv = shlex.split(s.get(("Service", "ExecStart"), [""])[-1])
        path = submit_file(f"deploy/systemd/{svc}", argv[1:], err)
        if path and not path.startswith("/etc/hret/"):
            err(f"deploy/systemd/{svc}", f"request file {path} is not under /etc/hret/")
