"""Save one real sample `data` per event type from the demo ledger: `python -m tests.samples.capture`.

Loads the demo (as of 2026-11-23, like the contract tests) into a throwaway embedded ledger, reads every
event and writes, for each CloudEvents type the demo produces, its smallest event's data (the first one
in ledger order among equals) to tests/samples/<CloudEvents type>.json. Types the demo never produces keep
their hand-made sample; the script names those it found no sample for. Then copy the samples into the
examples the app shows: `python -m events.publishing.json_schemas --write --examples-from tests/samples`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from api.demo import load_demo
from events.publishing.cloud_events import cloud_type
from events.publishing.json_schemas import dump_example, entries
from processors.settings import Settings
from processors.wiring import build
from tests.conftest import clock_on

HERE = Path(__file__).resolve().parent
DEMO_DAY = date(2026, 11, 23)


def demo_samples() -> dict[str, dict[str, object]]:
    """CloudEvents type -> the data of its smallest event in the demo ledger."""
    with tempfile.TemporaryDirectory(prefix="orderledger-samples-") as scratch:
        app = build(Settings(data_dir=Path(scratch) / "var"), clock=clock_on(DEMO_DAY))
        try:
            load_demo(app.desk, DEMO_DAY)
            found: dict[str, dict[str, object]] = {}
            after = 0
            while batch := app.ledger.read_all(after, 1000):
                for event in batch:
                    ce_type = cloud_type(event.type, event.stream_type, event.schema_version)
                    size = len(json.dumps(event.data))
                    if ce_type not in found or size < len(json.dumps(found[ce_type])):
                        found[ce_type] = event.data
                after = batch[-1].position
        finally:
            app.close()
    return found


def main() -> int:
    found = demo_samples()
    models = {e.ce_type: e.model for e in entries()}
    for ce_type, data in sorted(found.items()):
        canonical = models[ce_type].model_validate(data).model_dump(mode="json")  # the model's field order
        (HERE / f"{ce_type}.json").write_text(dump_example(canonical), "utf-8")
    missing = sorted(set(models) - set(found))
    print(f"{len(found)} samples from the demo written to {HERE}", file=sys.stderr)
    for ce_type in missing:
        kept = "kept the hand-made sample" if (HERE / f"{ce_type}.json").exists() else "NO SAMPLE: make one by hand"
        print(f"  not in the demo: {ce_type} ({kept})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
