"""Upload-to-ready time of a template version (parse + lint + parameters), against parsing alone.

The subject is `analyze`, what an upload runs before it answers; the anchor is `load_template`, the
parse the upload cannot avoid. Measured on the largest real sample, warm (cfn-lint's rules built) and
cold (a fresh process, as the first upload after a start would be without the gunicorn warm-up).
"""

import statistics
import subprocess
import sys
from pathlib import Path

from bench.figures import interleaved, line
from catalog.cfn.analysis import analyze
from catalog.cfn.lint import warm_up
from catalog.cfn.loader import load_template

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "templates"
_COLD = ("import time, sys; t = time.perf_counter(); from catalog.cfn.analysis import analyze; "
         "analyze(open(sys.argv[1]).read()); print((time.perf_counter() - t) * 1000)")
_PARSE = ("import time, sys; t = time.perf_counter(); from catalog.cfn.loader import load_template; "
          "load_template(open(sys.argv[1]).read()); print((time.perf_counter() - t) * 1000)")


def _largest() -> Path | None:
    files = [p for p in SAMPLES.rglob("*") if p.suffix in {".yaml", ".yml", ".json"}]
    usable = [p for p in files if analyze(p.read_text()).ok]
    return max(usable, key=lambda p: p.stat().st_size) if usable else None


def _fresh_process_ms(script: str, path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(rounds: int = 5, per_round: int = 4) -> list[str]:
    path = _largest()
    if path is None:
        return [f"version_upload_to_ready: skipped (no sample templates at {SAMPLES})"]
    text = path.read_text()
    warm_up()
    mine, anchor = interleaved(lambda: analyze(text), lambda: load_template(text), rounds=rounds,
                               per_round=per_round)
    cold = statistics.median(_fresh_process_ms(_COLD, path) for _ in range(3))
    cold_parse = statistics.median(_fresh_process_ms(_PARSE, path) for _ in range(3))
    size = f"{path.name}, {path.stat().st_size // 1024} KB"
    return [
        line(f"version_upload_to_ready_warm[{size}]", statistics.median(mine), "ms", statistics.median(anchor),
             "parse only"),
        line(f"version_upload_to_ready_cold[{size}]", cold, "ms", cold_parse, "parse only, fresh process"),
    ]
