#!/usr/bin/env python3
"""Checks what deploy/ ships against what the daemon exports.

  check_deploy.py rules [--promtool PATH]   every Prometheus rule file under deploy/ (plain rule
      files and the spec of every PrometheusRule) passes `promtool check rules`; each
      PrometheusRule says the same as deploy/prometheus/creditwatch.rules.yml; every
      *.rules.test.yml passes `promtool test rules`; and a rule file with one threshold
      changed fails its tests, so they assert something. Exits 77 (skipped) without promtool.
  check_deploy.py manifests    the Kubernetes manifests parse and agree with the image (port,
      uid, probes on /healthz); the rules and the Grafana dashboard use only metric names
      src/server/metrics.cpp exports.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
SKIPPED = 77
failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message, file=sys.stderr)


def ok(message):
    print("ok   " + message)


def yaml_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def deploy_yaml_files():
    return sorted(p for p in glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True))


def relative(path):
    return os.path.relpath(path, ROOT)


def promtool_run(promtool, *args, cwd=None):
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True)


def check_rules(promtool):
    plain_rules = os.path.join(DEPLOY, "prometheus", "creditwatch.rules.yml")
    with open(plain_rules) as f:
        reference = yaml.safe_load(f)
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in deploy_yaml_files():
            if path.endswith(".test.yml"):
                continue
            for i, doc in enumerate(yaml_documents(path)):
                if doc.get("kind") == "PrometheusRule":
                    spec_path = os.path.join(tmp, f"{os.path.basename(path)}.{i}.spec.yml")
                    with open(spec_path, "w") as f:
                        yaml.safe_dump(doc["spec"], f)
                    target, name = spec_path, f"{relative(path)} (PrometheusRule spec)"
                    if doc["spec"] == reference:
                        ok(f"{name} is the same as {relative(plain_rules)}")
                    else:
                        fail(f"{name} differs from {relative(plain_rules)}")
                elif "groups" in doc and isinstance(doc["groups"], list):
                    target, name = path, relative(path)
                else:
                    continue
                result = promtool_run(promtool, "check", "rules", target)
                checked += 1
                if result.returncode == 0:
                    ok(f"promtool check rules {name}: {result.stdout.strip().splitlines()[-1].strip()}")
                else:
                    fail(f"promtool check rules {name}:\n{result.stdout}{result.stderr}")
        if checked < 2:
            fail(f"expected the plain rule file and a PrometheusRule under deploy/, checked {checked}")

        tests = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.rules.test.yml"), recursive=True))
        if not tests:
            fail("no *.rules.test.yml under deploy/")
        for test in tests:
            result = promtool_run(promtool, "test", "rules", os.path.basename(test), cwd=os.path.dirname(test))
            if result.returncode == 0:
                ok(f"promtool test rules {relative(test)}")
            else:
                fail(f"promtool test rules {relative(test)}:\n{result.stdout}{result.stderr}")

        # The tests must be able to fail: the runway backup alert at 3 days instead of 2.
        mutated_dir = os.path.join(tmp, "mutated")
        os.mkdir(mutated_dir)
        with open(plain_rules) as f:
            text = f.read()
        mutated = text.replace("(creditwatch_runway_days) < 2", "(creditwatch_runway_days) < 3")
        if mutated == text:
            fail("the mutation check found no runway threshold to change")
        with open(os.path.join(mutated_dir, "creditwatch.rules.yml"), "w") as f:
            f.write(mutated)
        shutil.copy(os.path.join(DEPLOY, "prometheus", "creditwatch.rules.test.yml"), mutated_dir)
        result = promtool_run(promtool, "test", "rules", "creditwatch.rules.test.yml", cwd=mutated_dir)
        if result.returncode != 0 and "CreditwatchRunwayLow" in result.stdout + result.stderr:
            ok("the rule tests fail when the runway threshold changes")
        else:
            fail("the rule tests still pass with the runway threshold changed to 3 days")


def exported_metric_names():
    with open(os.path.join(ROOT, "src", "server", "metrics.cpp")) as f:
        names = set(re.findall(r'"(creditwatch_[a-z_]+)"', f.read()))
    for family in list(names):
        names |= {family + suffix for suffix in ("_bucket", "_sum", "_count")}
    return names


def metric_names_in(text):
    return set(re.findall(r"\bcreditwatch_[a-z_]+", text))


def check_metric_names():
    exported = exported_metric_names()
    with open(os.path.join(DEPLOY, "prometheus", "creditwatch.rules.yml")) as f:
        rules = yaml.safe_load(f)
    exprs = " ".join(rule["expr"] for group in rules["groups"] for rule in group["rules"])
    with open(os.path.join(DEPLOY, "grafana", "creditwatch.json")) as f:
        dashboard = json.load(f)
    panel_exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    variable_queries = " ".join(v.get("definition", "") for v in dashboard["templating"]["list"])
    for name, text in (("the alert rules", exprs), ("the Grafana dashboard", panel_exprs + " " + variable_queries)):
        used = metric_names_in(text)
        unknown = used - exported
        if unknown:
            fail(f"{name} use metric names /metrics does not export: {sorted(unknown)}")
        else:
            ok(f"{name} use {len(used)} metric names, all exported by src/server/metrics.cpp")
    wanted = {"creditwatch_balance", "creditwatch_burn_rate_per_day", "creditwatch_runway_days",
              "creditwatch_probe_failures_total", "creditwatch_notifications_total"}
    missing = wanted - metric_names_in(panel_exprs)
    if missing:
        fail(f"the dashboard has no panel on {sorted(missing)}")


def check_manifests():
    kinds = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "kubernetes", "*.yaml"))):
        for doc in yaml_documents(path):
            kinds[doc["kind"]] = doc
    for kind in ("Deployment", "Service", "ConfigMap", "Secret", "ServiceMonitor", "PrometheusRule", "Kustomization"):
        if kind not in kinds:
            fail(f"deploy/kubernetes has no {kind}")
    if failures:
        return
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("livenessProbe", "readinessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != "/healthz":
            fail(f"the Deployment's {probe} is not on /healthz: {get}")
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    expected = {"runAsNonRoot": True, "runAsUser": 10001, "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False}
    for key, value in expected.items():
        if security.get(key) != value:
            fail(f"the Deployment's securityContext.{key} is {security.get(key)!r}, not {value!r}")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        fail("the Deployment does not drop every capability")
    if not container.get("resources", {}).get("limits", {}).get("memory"):
        fail("the Deployment sets no memory limit")
    config = yaml.safe_load(kinds["ConfigMap"]["data"]["creditwatch.yaml"])
    listen = config["http"]["listen"]
    if not listen.startswith("0.0.0.0:") or int(listen.rsplit(":", 1)[1]) != container["ports"][0]["containerPort"]:
        fail(f"the ConfigMap listens on {listen}, the container port is {container['ports'][0]['containerPort']}")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    secret_keys = set(kinds["Secret"].get("stringData", {}))
    for account in config.get("accounts", []) + config.get("notifiers", []):
        for key, value in account.items():
            if key.endswith("_file"):
                directory, name = os.path.split(value)
                if directory != mounts.get("keys") or name not in secret_keys:
                    fail(f"{account['name']}.{key} = {value} is not a key of the mounted Secret")
    if not failures:
        ok("the Kubernetes manifests: probes on /healthz, uid 10001, read-only root, no capabilities, "
           "the config's files in the mounted Secret")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["rules", "manifests"])
    parser.add_argument("--promtool", default=shutil.which("promtool"))
    args = parser.parse_args()
    if args.what == "rules":
        if not args.promtool or not os.access(args.promtool, os.X_OK):
            print("SKIPPED: promtool not found (Debian package `prometheus`; scripts/install-deps installs it)")
            return SKIPPED
        check_rules(args.promtool)
    else:
        check_manifests()
        check_metric_names()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
