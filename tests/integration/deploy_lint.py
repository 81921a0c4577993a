#!/usr/bin/env python3
"""Static checks of deploy/ (run by test_deploy_lint.sh with the venv deploy/local/deps.sh made).

    deploy_lint.py SRC_DIR OUT_DIR HRET_HELP_FILE

- every YAML file under deploy/ parses;
- deploy/compose.yaml validates against the Compose Specification JSON schema (the copy
  shipped in the docker-compose 1.29.2 package) and has the services the stack needs, with
  real hret subcommands, existing dependencies and healthchecks;
- every Kubernetes object validates (strict: unknown fields are errors) against the
  Kubernetes 1.30 JSON schemas bundled in kubernetes-validate, except the KEDA ScaledObject
  (a CRD those schemas do not have), which gets targeted checks; then cross-object checks:
  probes on /healthz and /readyz at the port of http.listen, secrets only by secretKeyRef,
  PDB and ScaledObject pointing at the worker Deployment, KEDA's group/topics/brokers equal
  to the ConfigMap's;
- the Dockerfile: stages, bookworm-slim runtime, non-root USER, HEALTHCHECK, packages, and
  `sh -n` of every RUN;
- the systemd units: ExecStart runs a real hret subcommand as a non-root User.

Writes OUT_DIR/configmap_hret_config.yaml (the ConfigMap's config, for `hret config check`)
and OUT_DIR/compose_scripts/*.sh (shell bodies, for `bash -n`). Prints one line per problem
and exits 1 when there is any.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

import deploy_lint_schedule

K8S_VERSION = "1.30.0"
errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def hret_commands(help_file):
    """Subcommands listed by `hret --help` (the two-space indented 'name  description' lines)."""
    cmds = set()
    in_cmds = False
    for line in open(help_file, encoding="utf-8"):
        if line.startswith("commands:"):
            in_cmds = True
            continue
        if in_cmds:
            m = re.match(r"^  ([a-z][a-z-]*)\s{2,}", line)
            if m:
                cmds.add(m.group(1))
            elif line.strip() == "":
                in_cmds = False
    return cmds


BRIDGE_SINKS = {"mlflow", "wandb", "tensorboard", "webhook"}


def check_hret_argv(where, argv, cmds):
    if not argv:
        err(where, "no hret command")
        return None
    if argv[0] not in cmds:
        err(where, f"'{argv[0]}' is not an hret subcommand ({', '.join(sorted(cmds))})")
    if argv[0] == "bridge" and (len(argv) < 2 or argv[1] not in BRIDGE_SINKS):
        err(where, f"bridge needs one of {sorted(BRIDGE_SINKS)}: {argv}")
    return argv[0]


# ---- YAML --------------------------------------------------------------------------------------

def check_yaml_parses(src):
    files = sorted(glob.glob(os.path.join(src, "deploy", "**", "*.yaml"), recursive=True))
    files = [f for f in files if "/.cache/" not in f]
    for f in files:
        try:
            load_all(f)
        except yaml.YAMLError as e:
            err(os.path.relpath(f, src), f"YAML does not parse: {e}")
    return len(files)


# ---- compose -------------------------------------------------------------------------------------

def compose_schema():
    import importlib.util
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("deploy_lint: the docker-compose package (its compose_spec.json) is missing; "
                 "run deploy/local/deps.sh")
    path = os.path.join(list(spec.submodule_search_locations)[0], "config", "compose_spec.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_compose(src, cmds, out):
    import jsonschema
    rel = "deploy/compose.yaml"
    doc = load_all(os.path.join(src, rel))[0]
    schema = compose_schema()
    cls = jsonschema.Draft201909Validator  # the schema says draft 2019-09 (with a "#")
    cls.check_schema(schema)
    for e in sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        err(rel, f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message}")

    svcs = doc.get("services", {})
    for need in ("kafka", "kafka-init", "postgres", "mlflow", "fake-llm", "migrate", "worker",
                 "monitor", "bridge-mlflow"):
        if need not in svcs:
            err(rel, f"service '{need}' missing")
    if errors:
        return

    def img(name):
        """The image a plain `docker compose up` uses: ${VAR:-default} read as its default."""
        return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", svcs[name].get("image", ""))

    # third-party images overridable by a variable (make test-deploy runs local stand-ins)
    for name, var in (("kafka", "HRET_KAFKA_IMAGE"), ("kafka-init", "HRET_KAFKA_IMAGE"),
                      ("postgres", "HRET_POSTGRES_IMAGE"), ("mlflow", "HRET_MLFLOW_IMAGE"),
                      ("worker", "HRET_IMAGE")):
        if not svcs[name].get("image", "").startswith("${" + var + ":-"):
            err(rel, f"{name}: image is not ${{{var}:-...}}")

    kafka = svcs["kafka"]
    if not img("kafka").startswith("apache/kafka:"):
        err(rel, f"kafka: image {img('kafka')}, want apache/kafka")
    roles = str(kafka.get("environment", {}).get("KAFKA_PROCESS_ROLES", ""))
    if "controller" not in roles or "broker" not in roles:
        err(rel, "kafka: KRaft needs KAFKA_PROCESS_ROLES=broker,controller")
    if any("zookeeper" in k.lower() for k in svcs) or "ZOOKEEPER" in json.dumps(kafka).upper():
        err(rel, "ZooKeeper in a KRaft stack")
    if img("postgres") != "postgres:15":
        err(rel, f"postgres: image {img('postgres')}, want postgres:15")
    # the MLflow the suite runs (deploy/local/mlflow.sh's pin; the compose test's stand-in)
    pin = re.search(r'^want="mlflow==([0-9.]+)"', open(os.path.join(
        src, "deploy", "local", "mlflow.sh"), encoding="utf-8").read(), re.M)
    if not pin or img("mlflow") != f"ghcr.io/mlflow/mlflow:v{pin.group(1)}":
        err(rel, f"mlflow: image {img('mlflow')}, want ghcr.io/mlflow/mlflow at mlflow.sh's pin")

    hret_image = svcs["worker"].get("image")
    for name, s in svcs.items():
        where = f"{rel}: {name}"
        for dep in (s.get("depends_on") or {}):
            if dep not in svcs:
                err(where, f"depends_on unknown service '{dep}'")
        if s.get("image") != hret_image:
            continue
        b = s.get("build", {})
        if b.get("dockerfile") != "deploy/Dockerfile" or not os.path.isfile(
                os.path.join(src, "deploy", b.get("context", "."), b.get("dockerfile", ""))):
            err(where, f"build does not point at deploy/Dockerfile: {b}")
        for v in s.get("volumes", []):
            host = v.split(":")[0]
            if host.startswith(".") and not os.path.exists(os.path.join(src, "deploy", host)):
                err(where, f"volume source {host} does not exist")
        ep = s.get("entrypoint")
        if ep == ["/usr/local/bin/fake-llm"]:
            continue
        argv = (ep[1:] if ep else []) + list(s.get("command") or [])
        if ep and ep[0] != "/usr/local/bin/hret":
            err(where, f"entrypoint {ep} is neither hret nor fake-llm")
        check_hret_argv(where, argv, cmds)
        env = s.get("environment", {})
        if env.get("HRET_CONFIG") != "/etc/hret/hret_config.yaml":
            err(where, "HRET_CONFIG is not /etc/hret/hret_config.yaml")
        hc = s.get("healthcheck", {})
        tool = "tools" in (s.get("profiles") or [])  # run by hand, not a long-running role
        long_running = not tool and argv[0] in ("worker", "monitor", "bridge", "api")
        if long_running and ("/readyz" not in json.dumps(hc) or "9464" not in json.dumps(hc)):
            err(where, "long-running role without a /readyz healthcheck on 9464")

    if svcs["fake-llm"].get("entrypoint") != ["/usr/local/bin/fake-llm"]:
        err(rel, "fake-llm does not run /usr/local/bin/fake-llm from the hret image")
    if svcs["fake-llm"].get("image") != hret_image:
        err(rel, "fake-llm is not the hret image")
    if svcs["migrate"].get("command") != ["migrate"] or svcs["migrate"].get("restart") != "no":
        err(rel, "migrate is not a one-shot `hret migrate`")
    if svcs["worker"].get("command") != ["worker"] or \
            svcs["worker"].get("deploy", {}).get("replicas") != 3:
        err(rel, "worker: want `hret worker` with 3 replicas")
    for role in ("worker", "monitor", "bridge-mlflow", "api"):
        dep = svcs.get(role, {}).get("depends_on", {})
        if dep.get("migrate", {}).get("condition") != "service_completed_successfully":
            err(rel, f"{role} does not wait for the migrations")
    if svcs["bridge-mlflow"].get("command") != ["bridge", "mlflow"]:
        err(rel, "bridge-mlflow is not `hret bridge mlflow`")
    if svcs["monitor"].get("command") != ["monitor"]:
        err(rel, "monitor is not `hret monitor`")
    api_ports = [re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(p))
                 for p in svcs.get("api", {}).get("ports", [])]
    if svcs.get("api", {}).get("command") != ["api"] or "127.0.0.1:8080:8080" not in api_ports:
        err(rel, "api: want `hret api` published on 127.0.0.1:8080")

    # shell bodies, for bash -n in the shell part of the test
    os.makedirs(os.path.join(out, "compose_scripts"), exist_ok=True)
    for name, s in svcs.items():
        ep = s.get("entrypoint") or []
        if ep[-2:] == ["/bin/bash", "-c"] or ep[-2:] == ["bash", "-c"]:
            body = s["command"][0].replace("$$", "$")
            with open(os.path.join(out, "compose_scripts", f"{name}.sh"), "w") as f:
                f.write(body)
        hc = (s.get("healthcheck") or {}).get("test") or []
        if hc[:1] == ["CMD-SHELL"]:
            with open(os.path.join(out, "compose_scripts", f"{name}.healthcheck.sh"), "w") as f:
                f.write(hc[1])
        elif hc[:3] == ["CMD", "bash", "-c"]:
            with open(os.path.join(out, "compose_scripts", f"{name}.healthcheck.sh"), "w") as f:
                f.write(hc[3])
    return len(svcs)


# ---- Kubernetes ----------------------------------------------------------------------------------

def containers_of(obj):
    kind = obj.get("kind")
    if kind == "Deployment":
        return obj["spec"]["template"]["spec"]
    if kind == "Job":
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


SECRETISH = re.compile(r"(KEY|PASSWORD|TOKEN|SECRET)", re.I)


def check_k8s(src, cmds, out):
    import kubernetes_validate
    objs = []
    for path in sorted(glob.glob(os.path.join(src, "deploy", "k8s", "*.yaml"))):
        rel = os.path.relpath(path, src)
        for d in load_all(path):
            objs.append((rel, d))
    if not objs:
        err("deploy/k8s", "no manifests")
        return 0

    kinds = {}
    for rel, o in objs:
        where = f"{rel}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
        kinds.setdefault(o.get("kind"), []).append((where, o))
        if o.get("kind") == "ScaledObject":
            continue  # a CRD: targeted checks below
        try:
            kubernetes_validate.validate(o, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = "/".join(map(str, e.path))
            err(where, f"schema {K8S_VERSION}: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            err(where, f"no schema: {e}")
        if o.get("kind") != "Namespace" and o.get("metadata", {}).get("namespace") != "hret":
            err(where, "not in namespace hret")

    # the ConfigMap's config
    cms = [o for _, o in kinds.get("ConfigMap", []) if o["metadata"]["name"] == "hret-config"]
    if len(cms) != 1 or "hret_config.yaml" not in cms[0].get("data", {}):
        err("deploy/k8s", "ConfigMap hret-config with data.hret_config.yaml missing")
        return len(objs)
    text = cms[0]["data"]["hret_config.yaml"]
    with open(os.path.join(out, "configmap_hret_config.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    cfg = yaml.safe_load(text)
    listen_port = int(str(cfg["http"]["listen"]).rsplit(":", 1)[1])
    if str(cfg["http"]["listen"]).startswith("127."):
        err("ConfigMap", "http.listen on loopback: kubelet probes could not reach it")
    kafka = cfg.get("kafka", {})
    group = kafka.get("group_id", "hret-workers")
    brokers = kafka.get("brokers")
    topics = {kafka.get("requests_topic", "hret.eval.requests"),
              kafka.get("tasks_topic", "hret.eval.tasks")}
    secret_envs = set()
    for m in (cfg.get("models") or {}).values():
        if m.get("api_key_env"):
            secret_envs.add(m["api_key_env"])
    for h in cfg.get("webhooks") or []:
        if h.get("secret_env"):
            secret_envs.add(h["secret_env"])
    if (cfg.get("postgres") or {}).get("password_env"):
        secret_envs.add(cfg["postgres"]["password_env"])

    deployments = {o["metadata"]["name"]: (w, o) for w, o in kinds.get("Deployment", [])}
    roles_seen = set()
    secret_envs_given = set()
    for where, o in kinds.get("Deployment", []) + kinds.get("Job", []) + kinds.get("CronJob", []):
        pod = containers_of(o)
        sc = pod.get("securityContext", {})
        if not sc.get("runAsNonRoot") or sc.get("runAsUser", 0) == 0:
            err(where, "pod does not run as non-root")
        if pod.get("automountServiceAccountToken") is not False:
            err(where, "service account token mounted (hret never calls the API)")
        mounts_cfg = any(v.get("configMap", {}).get("name") == "hret-config"
                         for v in pod.get("volumes", []))
        if not mounts_cfg:
            err(where, "does not mount ConfigMap hret-config")
        for c in pod["containers"]:
            cw = f"{where}: container {c['name']}"
            if c.get("command") and c["command"] != ["/usr/local/bin/hret"]:
                err(cw, f"command {c['command']} is not hret")
            role = check_hret_argv(cw, c.get("args", []), cmds)
            if role == "bridge":
                role = "bridge " + c["args"][1]
            roles_seen.add(role)
            envs = {e["name"]: e for e in c.get("env", [])}
            if envs.get("HRET_CONFIG", {}).get("value") != "/etc/hret/hret_config.yaml":
                err(cw, "HRET_CONFIG is not /etc/hret/hret_config.yaml")
            if not any(m["mountPath"] == "/etc/hret" for m in c.get("volumeMounts", [])):
                err(cw, "config not mounted at /etc/hret")
            for e in c.get("env", []):
                if SECRETISH.search(e["name"]) and e["name"] != "HRET_CONFIG":
                    if "value" in e or "secretKeyRef" not in e.get("valueFrom", {}):
                        err(cw, f"env {e['name']} is a secret but not a secretKeyRef")
                    else:
                        secret_envs_given.add(e["name"])
            for ef in c.get("envFrom", []):
                if "secretRef" not in ef and "configMapRef" in ef:
                    pass
            csc = c.get("securityContext", {})
            if csc.get("allowPrivilegeEscalation") is not False or \
                    not csc.get("readOnlyRootFilesystem"):
                err(cw, "allowPrivilegeEscalation/readOnlyRootFilesystem not locked down")
            if o["kind"] in ("Job", "CronJob"):
                continue
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            if ports.get("http") != listen_port:
                err(cw, f"containerPort http {ports.get('http')} != http.listen port {listen_port}")
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                g = c.get(probe, {}).get("httpGet", {})
                if g.get("path") != path:
                    err(cw, f"{probe} path {g.get('path')}, want {path}")
                port = g.get("port")
                if port != "http" and port != listen_port:
                    err(cw, f"{probe} port {port} is not the http.listen port")
    missing = secret_envs - secret_envs_given
    # each secret the config names is given to at least one role
    for name in sorted(missing):
        err("deploy/k8s", f"secret env {name} (named in the ConfigMap) is given to no container")
    for want in ("worker", "monitor", "bridge mlflow", "migrate", "api"):
        if want not in roles_seen:
            err("deploy/k8s", f"no workload runs `hret {want}`")
    check_api_service(kinds, deployments, cfg)
    jobs = [o for _, o in kinds.get("Job", [])]
    if not any(containers_of(j)["containers"][0].get("args") == ["migrate"] for j in jobs):
        err("deploy/k8s", "no migration Job")

    worker = deployments.get("hret-worker")
    if worker is None:
        err("deploy/k8s", "Deployment hret-worker missing")
        return len(objs)
    wlabels = worker[1]["spec"]["template"]["metadata"]["labels"]

    pdbs = kinds.get("PodDisruptionBudget", [])
    if not pdbs:
        err("deploy/k8s", "no PodDisruptionBudget")
    for where, p in pdbs:
        sel = p["spec"].get("selector", {}).get("matchLabels", {})
        if not sel or any(wlabels.get(k) != v for k, v in sel.items()):
            err(where, f"selector {sel} does not match the worker pods {wlabels}")

    sos = kinds.get("ScaledObject", [])
    if len(sos) != 1:
        err("deploy/k8s", f"want one KEDA ScaledObject, found {len(sos)}")
    for where, s in sos:
        check_scaledobject(where, s, worker[1], group, brokers, topics)
    deploy_lint_schedule.check_cronjob(kinds, out, err)
    return len(objs)


SO_SPEC_KEYS = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "idleReplicaCount",
                "initialCooldownPeriod", "minReplicaCount", "maxReplicaCount", "advanced",
                "triggers", "fallback"}
KAFKA_META_KEYS = {"bootstrapServers", "consumerGroup", "topic", "lagThreshold",
                   "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
                   "scaleToZeroOnInvalidOffset", "excludePersistentLag", "version",
                   "partitionLimitation", "limitToPartitionsWithLag", "sasl", "tls",
                   "ensureEvenDistributionOfPartitions"}


def check_scaledobject(where, s, worker, group, brokers, topics):
    """The fields of KEDA 2.x's ScaledObject and kafka scaler (keda.sh docs)."""
    if s.get("apiVersion") != "keda.sh/v1alpha1":
        err(where, f"apiVersion {s.get('apiVersion')}, want keda.sh/v1alpha1")
    if s.get("metadata", {}).get("namespace") != worker["metadata"]["namespace"]:
        err(where, "not in the worker's namespace")
    spec = s.get("spec", {})
    for k in spec:
        if k not in SO_SPEC_KEYS:
            err(where, f"unknown spec field {k}")
    ref = spec.get("scaleTargetRef", {})
    if ref.get("name") != worker["metadata"]["name"] or ref.get("kind", "Deployment") != \
            "Deployment" or ref.get("apiVersion", "apps/v1") != "apps/v1":
        err(where, f"scaleTargetRef {ref} is not Deployment {worker['metadata']['name']}")
    for k in ("pollingInterval", "cooldownPeriod", "minReplicaCount", "maxReplicaCount"):
        if k in spec and (not isinstance(spec[k], int) or spec[k] < 0):
            err(where, f"{k} must be a non-negative integer")
    if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        err(where, "minReplicaCount > maxReplicaCount")
    hpa = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {})
    if hpa:
        # the HPA behavior block is autoscaling/v2's: validate it with that schema
        import kubernetes_validate
        fake = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "x"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"},
                         "maxReplicas": 1, "behavior": hpa.get("behavior", {})}}
        try:
            kubernetes_validate.validate(fake, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            err(where, f"advanced.horizontalPodAutoscalerConfig.behavior: {e.message}")
    trig = spec.get("triggers", [])
    if not trig:
        err(where, "no triggers")
    seen = set()
    for i, t in enumerate(trig):
        tw = f"{where}: triggers[{i}]"
        if t.get("type") != "kafka":
            err(tw, f"type {t.get('type')}, want kafka (consumer lag)")
            continue
        md = t.get("metadata", {})
        for k, v in md.items():
            if k not in KAFKA_META_KEYS:
                err(tw, f"unknown kafka scaler field {k}")
            if not isinstance(v, str):
                err(tw, f"metadata.{k} must be a string (KEDA trigger metadata is map[string]string)")
        if md.get("bootstrapServers") != brokers:
            err(tw, f"bootstrapServers {md.get('bootstrapServers')} != kafka.brokers {brokers}")
        if md.get("consumerGroup") != group:
            err(tw, f"consumerGroup {md.get('consumerGroup')} != kafka.group_id {group}")
        if md.get("topic") not in topics:
            err(tw, f"topic {md.get('topic')} is not one the workers consume {sorted(topics)}")
        seen.add(md.get("topic"))
        if not str(md.get("lagThreshold", "")).isdigit() or int(md["lagThreshold"]) < 1:
            err(tw, "lagThreshold must be a positive integer string")
        if md.get("offsetResetPolicy", "latest") not in ("earliest", "latest"):
            err(tw, "offsetResetPolicy must be earliest or latest")
    if seen != topics:
        err(where, f"triggers cover {sorted(seen)}, want both worker topics {sorted(topics)}")


# ---- Dockerfile ----------------------------------------------------------------------------------

def dockerfile_instructions(text):
    """(instruction, args) pairs: comments dropped, backslash continuations joined."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        ins, _, args = cur.partition(" ")
        out.append((ins.upper(), args.strip()))
        cur = ""
    return out


def check_dockerfile(src, out):
    rel = "deploy/Dockerfile"
    ins = dockerfile_instructions(open(os.path.join(src, rel), encoding="utf-8").read())
    known = {"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "USER", "WORKDIR", "EXPOSE",
             "HEALTHCHECK", "ENTRYPOINT", "CMD", "LABEL", "STOPSIGNAL", "VOLUME", "SHELL",
             "ONBUILD"}
    stages = []  # [name, base, [instructions]]
    for i, a in ins:
        if i not in known:
            err(rel, f"unknown instruction {i}")
        if i == "FROM":
            m = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", a, re.I)
            if not m:
                err(rel, f"bad FROM {a}")
                continue
            stages.append([m.group(2) or str(len(stages)), m.group(1), []])
        elif not stages:
            if i != "ARG":
                err(rel, f"{i} before the first FROM")
        else:
            stages[-1][2].append((i, a))
    if len(stages) < 2:
        err(rel, "not multi-stage")
        return
    names = [s[0] for s in stages]
    final = stages[-1]
    if final[1] != "debian:bookworm-slim":
        err(rel, f"runtime base {final[1]}, want debian:bookworm-slim")
    if not stages[0][1].startswith("debian:bookworm"):
        err(rel, f"builder base {stages[0][1]} is not Debian bookworm (the runtime's ABI)")
    users = [a for i, a in final[2] if i == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        err(rel, "runtime stage does not end as a non-root USER")
    if not any(i == "HEALTHCHECK" and "/healthz" in a for i, a in final[2]):
        err(rel, "no HEALTHCHECK on /healthz in the runtime stage")
    ep = [a for i, a in final[2] if i == "ENTRYPOINT"]
    if not ep or json.loads(ep[-1]) != ["/usr/local/bin/hret"]:
        err(rel, "ENTRYPOINT is not /usr/local/bin/hret")
    for st in stages:
        for i, a in st[2]:
            m = re.search(r"--from=(\S+)", a)
            if i == "COPY" and m and m.group(1) not in names:
                err(rel, f"COPY --from={m.group(1)}: no such stage")
            if i == "COPY" and not m:
                for p in shlex.split(a)[:-1]:
                    if not p.startswith("--") and not os.path.exists(os.path.join(src, p)):
                        err(rel, f"COPY source {p} does not exist in the repository")
    copied = " ".join(a for i, a in final[2] if i == "COPY")
    for b in ("/build/hret", "/build/fake-llm"):
        if b not in copied:
            err(rel, f"{b} not copied into the runtime image")

    def apt_packages(stage):
        pk = set()
        for i, a in stage[2]:
            if i == "RUN" and "apt-get install" in a:
                seg = a.split("apt-get install", 1)[1].split("&&")[0]
                pk |= {w for w in seg.split() if not w.startswith("-")}
        return pk
    runtime_need = {"librdkafka1", "libcurl4", "libcjson1", "libyaml-0-2", "libpq5",
                    "libmicrohttpd12", "libssl3", "libsnappy1v5", "zlib1g", "libzstd1"}
    miss = runtime_need - apt_packages(final)
    if miss:
        err(rel, f"runtime packages missing: {sorted(miss)}")
    deps = open(os.path.join(src, "deploy/local/deps.sh"), encoding="utf-8").read()
    deps_list = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", deps.split("packages=(", 1)[1].split(")", 1)[0]))
    extra = apt_packages(stages[0]) - deps_list
    if extra:
        err(rel, f"builder packages not in deploy/local/deps.sh: {sorted(extra)}")
    if not any(i == "RUN" and "cmake" in a and "--target hret fake-llm" in a for i, a in stages[0][2]):
        err(rel, "builder does not build hret and fake-llm with CMake")
    n = 0
    for st in stages:
        for i, a in st[2]:
            if i == "RUN" and not a.startswith("["):
                r = subprocess.run(["sh", "-n", "-c", a], capture_output=True, text=True)
                if r.returncode:
                    err(rel, f"RUN does not parse (sh -n): {r.stderr.strip()}: {a[:60]}")
                n += 1
    return n


# ---- systemd -------------------------------------------------------------------------------------

def check_api_service(kinds, deployments, cfg):
    """hret-api: containerPort `api` is api.listen's port, and Service hret-api selects its pods
    and targets that port; the tokens file is mounted from a Secret."""
    api = deployments.get("hret-api")
    if api is None:
        err("deploy/k8s", "Deployment hret-api missing")
        return
    where, o = api
    listen = str((cfg.get("api") or {}).get("listen", ""))
    port = int(listen.rsplit(":", 1)[1]) if ":" in listen else None
    pod = containers_of(o)
    c = pod["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    if listen.startswith("127.") or ports.get("api") != port:
        err(where, f"containerPort api {ports.get('api')} != api.listen {listen}")
    tokens = str((cfg.get("api") or {}).get("tokens_file", ""))
    secret_dirs = {m["mountPath"] for m in c.get("volumeMounts", [])
                   for v in pod.get("volumes", [])
                   if v["name"] == m["name"] and "secret" in v}
    if os.path.dirname(tokens) not in secret_dirs:
        err(where, f"api.tokens_file {tokens} is not on a mounted Secret")
    labels = o["spec"]["template"]["metadata"]["labels"]
    svcs = [s for _, s in kinds.get("Service", []) if s["metadata"]["name"] == "hret-api"]
    if len(svcs) != 1:
        err("deploy/k8s", "Service hret-api missing")
        return
    spec = svcs[0]["spec"]
    if any(labels.get(k) != v for k, v in spec.get("selector", {}).items()):
        err("Service hret-api", "selector does not match the hret-api pods")
    if not any(p.get("targetPort") in ("api", port) for p in spec.get("ports", [])):
        err("Service hret-api", "no port targets the api container port")


def parse_unit(path):
    sect, kv = None, {}
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            sect = s.strip("[]")
            continue
        k, _, v = s.partition("=")
        kv.setdefault((sect, k), []).append(v)
    return kv


def check_systemd(src, cmds):
    paths = sorted(glob.glob(os.path.join(src, "deploy", "systemd", "*.service")) +
                   glob.glob(os.path.join(src, "deploy", "systemd", "*.timer")))
    units = {os.path.basename(u): parse_unit(u) for u in paths}
    if not any(n.endswith(".service") for n in units):
        err("deploy/systemd", "no units")
    roles = set()
    for name, kv in units.items():
        if not name.endswith(".service"):
            continue
        rel = f"deploy/systemd/{name}"
        ex = kv.get(("Service", "ExecStart"), [])
        if len(ex) != 1:
            err(rel, "want exactly one ExecStart")
            continue
        argv = shlex.split(ex[0])
        if argv[0] != "/usr/local/bin/hret":
            err(rel, f"ExecStart runs {argv[0]}, not /usr/local/bin/hret")
        argv = [a if a != "%i" else "mlflow" for a in argv[1:]]
        role = check_hret_argv(rel, argv, cmds)
        roles.add(role)
        user = kv.get(("Service", "User"), ["root"])[-1]
        if user in ("root", "0"):
            err(rel, "runs as root")
        if "HRET_CONFIG=/etc/hret/hret_config.yaml" not in kv.get(("Service", "Environment"), []):
            err(rel, "HRET_CONFIG not set")
        if role in ("worker", "monitor", "bridge", "api") and not any(
                e.startswith("HRET_HTTP_LISTEN=") for e in kv.get(("Service", "Environment"), [])):
            err(rel, "no HRET_HTTP_LISTEN for the metrics/health server")
        # submit (the scheduled evaluation) only talks to Kafka
        if role not in ("migrate", "submit") and \
                "hret-migrate.service" not in " ".join(kv.get(("Unit", "Requires"), [])):
            err(rel, "does not require hret-migrate.service")
    for want in ("worker", "monitor", "bridge", "migrate", "api", "submit"):
        if want not in roles:
            err("deploy/systemd", f"no unit runs `hret {want}`")
    deploy_lint_schedule.check_timer(src, units, err)
    return len(units)


def main():
    src, out, help_file = sys.argv[1:4]
    cmds = hret_commands(help_file)
    if not {"worker", "migrate", "monitor", "bridge", "api"} <= cmds:
        sys.exit(f"deploy_lint: could not read the subcommands from hret --help: {sorted(cmds)}")
    n_yaml = check_yaml_parses(src)
    n_svc = check_compose(src, cmds, out)
    n_k8s = check_k8s(src, cmds, out)
    n_run = check_dockerfile(src, out)
    n_units = check_systemd(src, cmds)
    for e in errors:
        print("FAIL:", e)
    if errors:
        return 1
    print(f"deploy_lint: {n_yaml} YAML files parse; compose: {n_svc} services valid against the "
          f"Compose Specification schema; k8s: {n_k8s} objects valid against Kubernetes "
          f"{K8S_VERSION} schemas (ScaledObject: targeted checks); Dockerfile: {n_run} RUN lines "
          f"parse; systemd: {n_units} units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
