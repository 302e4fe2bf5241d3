"""The Grafana dashboard and the Prometheus alerts ask only for metrics orderledger exports, and compose mounts them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from processors.metrics import METRIC_NAMES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "orderledger.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
METRIC = re.compile(r"orderledger_[a-z0-9_]+")
HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")
RUNBOOK = "README.md#operating-orderledger"

README = DEPLOY.parent / "README.md"


def documented() -> set[str]:
    """The metrics the README's "What to watch" table names (an operator's list of what exists)."""
    text = README.read_text()
    table = text[text.index("### What to watch") : text.index("### Alerts: what each means")]
    return set(METRIC.findall(table))


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def exprs() -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every dashboard query and every alert."""
    for panel in panels(dashboard()):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r}", target["expr"]
    for rule in alert_rules():
        yield f"alert {rule['alert']}", rule["expr"]


def metrics_used() -> dict[str, set[str]]:
    """Each orderledger metric a query names (a histogram's _bucket/_sum/_count as the histogram) -> where."""
    used: dict[str, set[str]] = {}
    for where, expr in exprs():
        for name in METRIC.findall(expr):
            used.setdefault(series_of(name), set()).add(where)
    return used


def series_of(name: str) -> str:
    """A histogram's _bucket/_sum/_count series stand for the histogram."""
    base = HISTOGRAM_SERIES.sub("", name)
    return base if base in METRIC_NAMES and base != name else name


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_given_the_exporter_then_every_metric_the_dashboard_and_alerts_query_is_exported():
    # Given: every query of the dashboard and every alert expression
    used = metrics_used()
    # Then: each names a metric processors/metrics.py exports (a typo would draw an empty panel, a silent alert)
    assert used
    missing = {name: sorted(where) for name, where in used.items() if name not in METRIC_NAMES}
    assert not missing, missing


def test_given_the_readme_then_it_documents_exactly_the_exported_metrics():
    listed = documented()
    assert listed == set(METRIC_NAMES), (sorted(listed - METRIC_NAMES), sorted(METRIC_NAMES - listed))


def test_given_the_exported_metrics_then_the_dashboard_shows_each_of_them():
    shown = {
        series_of(name)
        for panel in panels(dashboard())
        for target in panel.get("targets", [])
        for name in METRIC.findall(target["expr"])
    }
    assert set(METRIC_NAMES) - shown == set()


def test_given_the_dashboard_then_it_is_orderledger_s_with_a_prometheus_datasource_variable():
    board = dashboard()
    assert board["uid"] == "orderledger"
    assert board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_given_the_dashboard_then_its_rows_are_flow_lag_errors_and_domain_in_that_order():
    rows = [panel["title"] for panel in dashboard()["panels"] if panel["type"] == "row"]
    assert rows == ["Flow", "Lag", "Errors", "Domain"]


def test_given_every_panel_then_it_has_a_title_and_queries_the_chosen_datasource():
    board = dashboard()
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels(board):
        assert panel.get("title"), panel
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert target["expr"].strip(), panel["title"]


def test_given_every_alert_then_it_says_how_bad_what_it_means_and_where_the_runbook_is():
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == {
        "OrderledgerRelayBacklogGrowing",
        "OrderledgerProcessorLagHigh",
        "OrderledgerProjectionAheadOfLedger",
        "OrderledgerRelayAheadOfLedger",
        "OrderledgerDeadLetters",
        "OrderledgerWebhookSubscriptionFailing",
        "OrderledgerLedgerVerifyFailed",
        "OrderledgerLedgerVerifyStale",
        "OrderledgerServiceBelowTarget",
        "OrderledgerContractNearCeiling",
        "OrderledgerApiErrors",
        "OrderledgerTargetDown",
    }
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", str(rule["for"])), rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"].strip(), rule["alert"]
        assert "First" in annotations["description"], f"{rule['alert']}: the description says what to do first"
        assert annotations["runbook"] == RUNBOOK, rule["alert"]


def test_given_compose_then_every_file_mounted_into_prometheus_and_grafana_is_in_the_repo():
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        binds = [volume.split(":")[0] for volume in services[name]["volumes"] if volume.startswith((".", "/"))]
        assert binds, name
        for source in binds:
            assert (DEPLOY / source).resolve().exists(), f"{name} mounts {source}, missing from deploy/"


def test_given_compose_then_grafana_loads_the_dashboard_from_where_compose_mounts_it():
    # Given: the dashboard provider's directory and the compose mount of the dashboard
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/orderledger.yml").read_text())["providers"]
    mounts = dict(volume.split(":")[:2] for volume in compose()["services"]["grafana"]["volumes"])
    # Then: the dashboard lands in the provider's directory, and the data source is the compose Prometheus
    assert str(Path(mounts["./grafana/orderledger.json"]).parent) == providers[0]["options"]["path"]
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"
    assert "prometheus" in compose()["services"]


def test_given_the_scrape_config_then_it_scrapes_the_compose_api_and_workers_on_their_ports():
    # Given: the scrape config of compose's Prometheus, and compose's services
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    services = compose()["services"]
    targets = {
        job["job_name"]: [t for static in job.get("static_configs", []) for t in static["targets"]]
        for job in config["scrape_configs"]
    }
    # Then: the API on the port it serves, each worker on its ops port, the alerts loaded
    assert config["rule_files"] == ["alerts.yml"]
    assert {"orderledger-api", "orderledger-worker", "orderledger-relay"} <= set(targets)
    assert targets["orderledger-api"] == ["api:8000"]
    assert "8000" in services["api"]["command"]
    workers = sorted(name for name, service in services.items() if service.get("command") == ["worker"])
    assert sorted(t.split(":")[0] for t in targets["orderledger-worker"]) == workers
    for target in targets["orderledger-worker"]:
        host, port = target.split(":")
        environment = services[host]["environment"]
        assert (environment["ORDERLEDGER_OPS_PORT"], environment["ORDERLEDGER_HOST"]) == (port, "0.0.0.0")
