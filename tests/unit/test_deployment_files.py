"""deploy/compose.yaml cannot run here (no Docker engine): keep it consistent with what does run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from processors.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_every_orderledger_variable_in_compose_is_a_known_setting():
    known = {f"ORDERLEDGER_{name.upper()}" for name in Settings.model_fields}
    services = compose()["services"]
    used = {
        name
        for service in services.values()
        for name in (service.get("environment") or {})
        if name.startswith("ORDERLEDGER_") and "PASSWORD" not in name
    }
    assert used and used <= known, used - known


def test_compose_has_three_kraft_brokers_replication_3_min_isr_2_postgres_api_and_two_workers():
    services = compose()["services"]
    brokers = [s for name, s in services.items() if name.startswith("kafka-")]
    assert len(brokers) == 3
    for broker in brokers:
        env = broker["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
    assert {"postgres", "api", "worker-1", "worker-2"} <= set(services)
    assert services["worker-1"]["command"] == ["worker"]
    assert services["api"]["environment"]["ORDERLEDGER_TOPIC_REPLICATION"] == "3"


def test_compose_runs_the_kafka_version_the_scripts_fetch():
    pom = (DEPLOY / "kafka/pom.xml").read_text()
    fetched = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert fetched is not None
    assert compose()["services"]["kafka-1"]["image"] == f"apache/kafka:{fetched.group(1)}"
