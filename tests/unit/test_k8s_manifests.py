"""deploy/k8s cannot be applied here (no cluster): keep its manifests consistent with the code they run."""

from __future__ import annotations

import argparse
import base64
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from api.cli import _parser
from events.ledger.catalogue import STREAM_TYPES
from events.publishing.cloud_events import topic_for
from processors.ops_server import HEALTH_PATH, METRICS_PATH, READY_PATH
from processors.relay import dead_letter_topic
from processors.settings import PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SECRET_TEMPLATE = "secret.template.yaml"  # a template, never applied by kustomize (it would reset the passwords)
LONG_RUNNING = {"serve", "worker", "relay", "webhooks"}
OPS_SERVED = {"worker", "relay", "webhooks"}  # /metrics, /healthz, /readyz on ORDERLEDGER_OPS_PORT
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# ---------------------------------------------------------------- reading the manifests


@cache
def manifests() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file, document) for every YAML document under deploy/k8s; a file that does not parse fails here."""
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                found.append((str(path.relative_to(K8S)), document))
    return tuple(found)


def resources(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc.get("kind") == kind]


def the_one(kind: str) -> dict[str, Any]:
    found = resources(kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def config_maps() -> dict[str, dict[str, str]]:
    return {
        cm["metadata"]["name"]: {k: str(v) for k, v in (cm.get("data") or {}).items()} for cm in resources("ConfigMap")
    }


def secrets() -> dict[str, dict[str, str]]:
    """The Secrets' values, from `stringData` or base64 `data` (here only the template's placeholders)."""
    found = {}
    for secret in resources("Secret"):
        values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        values.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
        found[secret["metadata"]["name"]] = values
    return found


def the_config() -> dict[str, str]:
    (data,) = config_maps().values()
    return data


def workloads() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, workload, pod template) of every Deployment and CronJob."""
    for deployment in resources("Deployment"):
        yield deployment["metadata"]["name"], deployment, deployment["spec"]["template"]
    for cron_job in resources("CronJob"):
        yield cron_job["metadata"]["name"], cron_job, cron_job["spec"]["jobTemplate"]["spec"]["template"]


def containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, pod template, container) of every container that runs orderledger."""
    for name, _, template in workloads():
        for container in template["spec"]["containers"]:
            yield name, template, container


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector: a Service's plain map, or matchLabels / matchExpressions."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        held = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not held:
            return False
    return True


# ---------------------------------------------------------------- what the code would do with them


def image_entrypoint_and_cmd() -> tuple[list[str], list[str]]:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert entrypoint is not None, "deploy/Dockerfile has no exec-form ENTRYPOINT"
    return json.loads(entrypoint.group(1)), json.loads(cmd.group(1)) if cmd else []


def command_line(container: Mapping[str, Any]) -> list[str]:
    """What the container executes: `command` replaces the ENTRYPOINT (and drops CMD), `args` replace CMD."""
    entrypoint, cmd = image_entrypoint_and_cmd()
    if "command" in container:
        return [*container["command"], *container.get("args", [])]
    return [*entrypoint, *container.get("args", cmd)]


def subcommands() -> set[str]:
    actions = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def parsed(container: Mapping[str, Any]) -> argparse.Namespace:
    argv = command_line(container)
    assert argv[0] == "orderledger", f"{container['name']} runs {argv[0]!r}, not orderledger"
    try:
        return _parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"container {container['name']}: `{' '.join(argv)}` is not a valid orderledger command line")


def environment(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's variables: envFrom ConfigMaps and Secrets first, then `env`, which wins."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in config_maps(), f"{container['name']} reads ConfigMap {name}, which no manifest defines"
            env.update(config_maps()[name])
        if "secretRef" in source:
            name = source["secretRef"]["name"]
            assert name in secrets(), f"{container['name']} reads Secret {name}, which no manifest or template defines"
            env.update(secrets()[name])
    for variable in container.get("env") or []:
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
    return env


def effective_settings(container: Mapping[str, Any]) -> Settings:
    """The settings the process would start with, merged exactly as api.cli.main merges them."""
    args = parsed(container)
    options = {"data_dir": args.data_dir, "host": getattr(args, "host", None), "port": getattr(args, "port", None)}
    return load_settings(options, environ=environment(container))


def listening_port(container: Mapping[str, Any]) -> int:
    """Where /healthz and /readyz answer: the API's HTTP port for serve, the ops port for the others."""
    command = parsed(container).command
    settings = effective_settings(container)
    return settings.port if command == "serve" else settings.ops_port


def container_port(template: Mapping[str, Any], port: int | str) -> int | None:
    """A probe's or Service's port (a name or a number) as a containerPort of the pod, or None."""
    for container in template["spec"]["containers"]:
        for declared in container.get("ports") or []:
            if port in (declared.get("name"), declared["containerPort"]):
                return int(declared["containerPort"])
    return None


def config_settings() -> Settings:
    """The ConfigMap's settings with the Secret template's database URLs."""
    (secret,) = secrets().values()
    return load_settings(environ={**the_config(), **secret})


def topics_the_app_creates(prefix: str) -> set[str]:
    """As processors.relay.ensure_topics lists them: one per stream family, and the dead-letter topic."""
    return {topic_for(prefix, kind) for kind in STREAM_TYPES} | {dead_letter_topic(prefix)}


def pod_templates_selected_by(selector: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (deployment, deployment["spec"]["template"])
        for deployment in resources("Deployment")
        if selects(selector, deployment["spec"]["template"]["metadata"].get("labels") or {})
    ]


def deployment_running(command: str) -> dict[str, Any]:
    found = [
        deployment
        for deployment in resources("Deployment")
        if any(parsed(c).command == command for c in deployment["spec"]["template"]["spec"]["containers"])
    ]
    assert len(found) == 1, f"expected one Deployment running `orderledger {command}`, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------- files and namespace


def test_given_deploy_k8s_then_every_yaml_parses_and_the_kustomization_lists_all_but_the_secret_template():
    files = {name for name, _ in manifests()}
    assert {"kustomization.yaml", SECRET_TEMPLATE} <= files
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == files - {"kustomization.yaml", SECRET_TEMPLATE}
    assert all((K8S / name).is_file() for name in listed)


def test_given_the_manifests_then_everything_lives_in_the_orderledger_namespace():
    namespace = the_one("Namespace")["metadata"]["name"]
    assert namespace == "orderledger"
    assert yaml.safe_load((K8S / "kustomization.yaml").read_text())["namespace"] == namespace
    placed = {
        (doc["kind"], doc["metadata"]["name"]): doc["metadata"].get("namespace")
        for name, doc in manifests()
        if name != "kustomization.yaml" and doc["kind"] != "Namespace"
    }
    assert placed and set(placed.values()) == {namespace}, placed


# ---------------------------------------------------------------- commands and settings


def test_given_each_workload_then_its_container_runs_a_real_orderledger_subcommand_of_the_project_image():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    run = {}
    for name, _, container in containers():
        assert container["image"] == f"orderledger:{version}", name
        command = parsed(container).command
        assert command in subcommands(), f"{name} runs `orderledger {command}`, which the CLI does not have"
        run[name] = command
    deployments = {run[d["metadata"]["name"]] for d in resources("Deployment")}
    cron_jobs = {run[c["metadata"]["name"]] for c in resources("CronJob")}
    assert deployments == LONG_RUNNING
    # verify runs inside the API (ORDERLEDGER_VERIFY_EVERY_SECONDS): only the contract clock is scheduled.
    assert cron_jobs == {"contract-clock"}


def test_given_every_orderledger_variable_in_the_manifests_then_it_names_a_real_setting():
    known = {PREFIX + field.upper() for field in Settings.model_fields}
    named = set(the_config())
    for secret in secrets().values():
        named |= set(secret)
    for _, _, container in containers():
        named |= {variable["name"] for variable in container.get("env") or []}
    orderledger_names = {name for name in named if name.startswith(PREFIX)}
    assert orderledger_names and orderledger_names <= known, orderledger_names - known


def test_given_the_config_map_and_each_container_environment_then_the_settings_load():
    settings = config_settings()
    assert settings.database_url and settings.admin_database_url and settings.kafka_bootstrap
    for name, _, container in containers():
        settings = effective_settings(container)
        assert settings.database_url and settings.kafka_bootstrap, f"{name} would not start in server mode"


def test_given_the_api_then_it_leaves_relaying_and_webhooks_to_their_own_deployments_and_verifies_hourly():
    (container,) = deployment_running("serve")["spec"]["template"]["spec"]["containers"]
    settings = effective_settings(container)
    assert (settings.run_relay, settings.run_webhooks) == (False, False)
    assert 0 < settings.verify_every_seconds <= 3600
    assert deployment_running("serve")["spec"]["replicas"] >= 2


def test_given_the_api_replicas_then_their_readiness_never_fails_for_the_lag_they_all_share():
    # Every replica sees the same relay backlog and projection lag: failing /readyz for it would take
    # them all out of the Service at once, turning a projection delay into an outage of writes.
    (container,) = deployment_running("serve")["spec"]["template"]["spec"]["containers"]
    assert effective_settings(container).ready_max_lag_events == 0


def test_given_the_workers_then_there_are_at_least_two_and_no_more_than_the_topics_have_partitions():
    replicas = deployment_running("worker")["spec"]["replicas"]
    assert 2 <= replicas <= config_settings().topic_partitions


# ---------------------------------------------------------------- probes and ports


def test_given_each_deployment_then_liveness_asks_healthz_and_readiness_asks_readyz_where_the_process_listens():
    for name, template, container in containers():
        if parsed(container).command not in LONG_RUNNING:
            continue
        settings = effective_settings(container)
        # The kubelet probes the pod's address: a process bound to 127.0.0.1 would never answer.
        assert settings.host == "0.0.0.0", f"{name} listens on {settings.host}"
        listening = listening_port(container)
        expected = {"livenessProbe": HEALTH_PATH, "readinessProbe": READY_PATH, "startupProbe": HEALTH_PATH}
        assert {"livenessProbe", "readinessProbe"} <= set(container), name
        for probe_kind, path in expected.items():
            if probe_kind not in container:
                continue
            probe = container[probe_kind]["httpGet"]
            assert probe["path"] == path, f"{name} {probe_kind}"
            port = container_port(template, probe["port"])
            assert port is not None, f"{name} {probe_kind} port {probe['port']!r} is no containerPort"
            assert port == listening, f"{name} {probe_kind} probes {port}, the process listens on {listening}"


def test_given_the_worker_then_a_startup_probe_covers_its_slow_start():
    (container,) = deployment_running("worker")["spec"]["template"]["spec"]["containers"]
    probe = container["startupProbe"]
    assert probe["httpGet"]["path"] == HEALTH_PATH
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 60


def test_given_each_service_then_its_target_port_is_a_container_port_of_every_pod_it_selects():
    for service in resources("Service"):
        name = service["metadata"]["name"]
        selected = pod_templates_selected_by(service["spec"]["selector"])
        assert selected, f"Service {name} selects no pods"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for deployment, template in selected:
                assert container_port(template, target) is not None, (
                    f"Service {name} port {port.get('name')} targets {target!r}, "
                    f"not a containerPort of {deployment['metadata']['name']}"
                )


def test_given_the_api_service_then_port_80_named_http_reaches_where_serve_listens():
    api = deployment_running("serve")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    services = [
        s for s in resources("Service") if selects(s["spec"]["selector"], api["spec"]["template"]["metadata"]["labels"])
    ]
    (service,) = services
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"]) == ("http", 80)
    assert container_port(api["spec"]["template"], port["targetPort"]) == listening_port(container)


def test_given_prometheus_then_every_process_is_scraped_at_the_metrics_path_through_a_service_monitor():
    monitors = resources("ServiceMonitor")
    assert monitors, "no ServiceMonitor"
    scraped: set[str] = set()
    for monitor in monitors:
        services = [s for s in resources("Service") if selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        assert services, f"ServiceMonitor {monitor['metadata']['name']} selects no Service"
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == METRICS_PATH
            for service in services:
                if endpoint["port"] not in {p.get("name") for p in service["spec"]["ports"]}:
                    continue
                for deployment, _ in pod_templates_selected_by(service["spec"]["selector"]):
                    scraped.add(deployment["metadata"]["name"])
    assert scraped == {d["metadata"]["name"] for d in resources("Deployment")}
    # One way to declare scraping, not two: no prometheus.io annotations beside the ServiceMonitors.
    annotated = [
        name
        for name, doc in manifests()
        for annotations in (
            doc.get("metadata", {}).get("annotations") or {},
            (doc.get("spec", {}).get("template", {}).get("metadata", {}) or {}).get("annotations") or {},
        )
        if any(key.startswith("prometheus.io/") for key in annotations)
    ]
    assert not annotated


def test_given_the_alert_rules_then_every_job_they_name_is_a_service_prometheus_scrapes():
    # With a ServiceMonitor, Prometheus sets `job` to the Service's name.
    rules = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()
    named = set(re.findall(r'job="([^"]+)"', rules))
    scraped = {
        service["metadata"]["name"]
        for monitor in resources("ServiceMonitor")
        for service in resources("Service")
        if selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    }
    assert named <= scraped, named - scraped


# ---------------------------------------------------------------- resources, security, disruptions


def test_given_each_container_then_it_requests_cpu_and_memory_and_has_a_memory_limit():
    for name, _, container in containers():
        resources_ = container.get("resources") or {}
        assert {"cpu", "memory"} <= set(resources_.get("requests") or {}), name
        assert "memory" in (resources_.get("limits") or {}), name


def test_given_each_pod_then_it_runs_as_non_root_on_a_read_only_root_with_its_data_dir_on_an_empty_dir():
    for name, template, container in containers():
        pod = template["spec"]
        assert (pod.get("securityContext") or {}).get("runAsNonRoot") is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        empty_dirs = {volume["name"] for volume in pod.get("volumes") or [] if "emptyDir" in volume}
        writable = [Path(m["mountPath"]) for m in container.get("volumeMounts") or [] if m["name"] in empty_dirs]
        data_dir = effective_settings(container).data_dir
        assert data_dir.is_absolute(), f"{name}: {data_dir} would be under the read-only working directory"
        for needed in (data_dir, Path("/tmp")):
            assert any(needed == mount or mount in needed.parents for mount in writable), f"{name}: {needed}"


def test_given_the_api_and_the_workers_then_a_disruption_budget_keeps_one_running_and_still_lets_a_node_drain():
    for command in ("serve", "worker"):
        deployment = deployment_running(command)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        budgets = [b for b in resources("PodDisruptionBudget") if selects(b["spec"]["selector"], labels)]
        assert len(budgets) == 1, f"`{command}` has {len(budgets)} PodDisruptionBudgets"
        spec = budgets[0]["spec"]
        if "minAvailable" in spec:
            assert 1 <= spec["minAvailable"] < deployment["spec"]["replicas"]
        else:
            assert spec["maxUnavailable"] >= 1


# ---------------------------------------------------------------- PostgreSQL


def test_given_the_secret_template_then_it_holds_placeholders_for_the_roles_deploy_postgres_creates():
    (template,) = [doc for name, doc in manifests() if name == SECRET_TEMPLATE]
    assert template["kind"] == "Secret"
    values = secrets()[template["metadata"]["name"]]
    assert set(values) == {"ORDERLEDGER_DATABASE_URL", "ORDERLEDGER_ADMIN_DATABASE_URL"}
    assert all("change-me" in value for value in values.values())
    script = (ROOT / "deploy" / "postgres" / "postgres.sh").read_text()
    roles = dict(re.findall(r"^readonly (APP_ROLE|OWNER_ROLE)=(\S+)$", script, re.MULTILINE))
    assert urlparse(values["ORDERLEDGER_DATABASE_URL"]).username == roles["APP_ROLE"]
    assert urlparse(values["ORDERLEDGER_ADMIN_DATABASE_URL"]).username == roles["OWNER_ROLE"]


# ---------------------------------------------------------------- Kafka


def test_given_the_kafka_cluster_then_it_is_three_kraft_nodes_with_min_isr_2_and_the_version_deploy_kafka_fetches():
    kafka = the_one("Kafka")
    pools = resources("KafkaNodePool")
    strimzi = [doc for _, doc in manifests() if doc["apiVersion"].startswith("kafka.strimzi.io/")]
    assert len({doc["apiVersion"] for doc in strimzi}) == 1, "Strimzi resources on different API versions"
    assert {pool["metadata"]["labels"]["strimzi.io/cluster"] for pool in pools} == {kafka["metadata"]["name"]}
    assert sum(pool["spec"]["replicas"] for pool in pools if "broker" in pool["spec"]["roles"]) == 3
    assert sum(pool["spec"]["replicas"] for pool in pools if "controller" in pool["spec"]["roles"]) == 3
    config = kafka["spec"]["kafka"]["config"]
    assert (config["min.insync.replicas"], config["default.replication.factor"]) == (2, 3)
    assert config["auto.create.topics.enable"] is False
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    fetched = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert fetched is not None
    assert str(kafka["spec"]["kafka"]["version"]) == fetched.group(1)


def test_given_the_app_then_it_bootstraps_from_the_kafka_clusters_plain_listener():
    kafka = the_one("Kafka")
    (plain,) = [listener for listener in kafka["spec"]["kafka"]["listeners"] if listener["tls"] is False]
    assert plain["type"] == "internal"
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"
    assert plain["port"] == 9092
    for name, _, container in containers():
        assert effective_settings(container).kafka_bootstrap == expected, name


def test_given_the_kafka_topics_then_they_are_exactly_the_topics_the_app_creates_and_kept_forever():
    settings = config_settings()
    kafka_name = the_one("Kafka")["metadata"]["name"]
    declared = {}
    for topic in resources("KafkaTopic"):
        metadata, spec = topic["metadata"], topic["spec"]
        assert DNS_SUBDOMAIN.match(metadata["name"]), f"{metadata['name']} is no valid Kubernetes name"
        assert metadata["labels"]["strimzi.io/cluster"] == kafka_name
        declared[spec.get("topicName", metadata["name"])] = spec
    assert set(declared) == topics_the_app_creates(settings.topic_prefix)
    for name, spec in declared.items():
        # Equal to what the app creates when a topic is missing: a partition count that differs would
        # be raised by the topic operator and move keys (streams) to other partitions.
        assert (spec["partitions"], spec["replicas"]) == (settings.topic_partitions, settings.topic_replication), name
        assert str(spec["config"]["retention.ms"]) == "-1", name
        assert spec["config"]["cleanup.policy"] == "delete", name
