"""Run cfn-lint (as a library) over a loaded template and return its findings as TemplateMessages.

cfnlint.api.lint() builds a fresh Runner, which loads all ~330 rules, on every call: ~0.3 s. We
build the rules once per process and feed cfn-lint the tree our loader already decoded with its
decoder, which leaves ~20-250 ms per template (more on the very first call, while cfn-lint loads
the resource schemas it needs). `warm_up()` pays the one-off costs early, e.g. at worker start.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Sequence
from typing import Any

from .loader import LoadedTemplate, TemplateMessage, load_template

REGIONS = ("us-east-1",)
_LEVELS = {"E": "error", "W": "warning", "I": "info"}
# cfn-lint rules keep per-run state (Rules.run() re-initialises each rule with the template), so
# two threads must not lint at once with the shared rule objects.
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _rules() -> Any:
    from cfnlint.config import ConfigMixIn  # imported here: cfn-lint takes ~0.5 s to import
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=list(REGIONS), include_checks=["I"])).rules


def lint_template(text: str | bytes, template: LoadedTemplate | None = None, *,
                  regions: Sequence[str] = REGIONS) -> list[TemplateMessage]:
    """cfn-lint's findings for `text`, errors (E*), warnings (W*) and informational (I*), by line.

    Pass the LoadedTemplate when you have one, to skip parsing again; without it the text is
    loaded first and TemplateError raised if it does not parse.
    """
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import run_template_by_data

    loaded = template if template is not None else load_template(text)
    # A fresh config per template: cfn-lint stores template-level settings (Metadata cfn-lint) on it.
    config = ConfigMixIn(regions=list(regions), include_checks=["I"])
    # A copy, because cfn-lint's transforms rewrite the tree in place (it merges SAM Globals into resources).
    nodes = copy.deepcopy(loaded.nodes)
    with _LOCK:
        matches = list(run_template_by_data(nodes, config, _rules()))
    messages = [_message(m) for m in matches]
    return sorted(messages, key=lambda m: (m.line or 0, m.column or 0, m.rule))


def warm_up() -> None:
    """Load cfn-lint, its rules and the commonest schemas now rather than on the first upload."""
    lint_template("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")


def _message(match: Any) -> TemplateMessage:
    rule_id = str(match.rule.id)
    path = [p if isinstance(p, int) else str(p) for p in (getattr(match, "path", None) or [])]
    return TemplateMessage(level=_LEVELS.get(rule_id[:1], "warning"), message=str(match.message),
                           line=match.linenumber, column=match.columnnumber, rule=rule_id, path=path)
