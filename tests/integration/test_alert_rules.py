"""Prometheus's own promtool checks deploy/prometheus: the rules load, their unit tests pass, the config is valid."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs promtool in deploy/prometheus, where the config and the tests name alerts.yml relatively."""
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail("promtool is missing: `make system-packages` installs it (Debian's prometheus package)")
    return subprocess.run(
        [executable, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120, check=False
    )


def test_given_the_alert_rules_when_promtool_checks_them_then_every_rule_loads_without_a_lint_finding():
    rules = sum(len(group["rules"]) for group in yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"])
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {rules} rules found" in checked.stdout, checked.stdout


def test_given_the_alert_unit_tests_when_promtool_runs_them_then_each_alert_fires_only_when_it_should():
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout and "FAILED" not in tested.stdout, tested.stdout


def test_given_the_compose_scrape_config_when_promtool_checks_it_then_it_is_valid_and_loads_the_alerts():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: prometheus.yml is valid prometheus config file syntax" in checked.stdout, checked.stdout
    assert "SUCCESS: 1 rule files found" in checked.stdout, checked.stdout
    assert "Checking alerts.yml" in checked.stdout, checked.stdout


def test_given_the_dashboard_queries_when_promtool_parses_them_then_each_is_valid_promql(tmp_path):
    # Given: every query of the Grafana dashboard, Grafana's $__rate_interval as a Prometheus duration
    board = json.loads((REPO / "deploy/grafana/orderledger.json").read_text())
    rules = [
        {
            "record": f"dashboard:panel{panel['id']}_{target['refId']}",
            "expr": target["expr"].replace("$__rate_interval", "1m"),
        }
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]
    assert rules
    checked_file = tmp_path / "dashboard_queries.yml"
    checked_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    # When: promtool loads them as recording rules (it parses each expression)
    checked = promtool("check", "rules", str(checked_file))
    # Then: every one parses
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout, checked.stdout
