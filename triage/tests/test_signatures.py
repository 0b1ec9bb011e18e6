"""Signatures: the built-ins against real attack records, their own examples, the index, conditions."""

import glob
import json
import os

import pytest

from triage.builtin_signatures import BUILTIN, FLOW_BUILTIN
from triage.signature_matching import (
    EventView,
    SignatureIndex,
    compile_signature,
    conditions_check,
    records_in,
    run_examples,
)

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "samples", "cloudtrail")
STRATUS = os.path.join(SAMPLES, "stratus-red-team")
STREAMALERT = os.path.join(SAMPLES, "streamalert-rule-tests")
needs_samples = pytest.mark.skipif(not os.path.isdir(STRATUS), reason="../shared/samples is not beside the project")

# Which built-in must fire on which Stratus Red Team detonation; every other detonation must leave them silent.
STRATUS_EXPECTED = {
    "aws.defense-evasion.cloudtrail-delete.json": {"cloudtrail-disabled"},
    "aws.defense-evasion.cloudtrail-event-selectors.json": {"cloudtrail-disabled"},
    "aws.defense-evasion.cloudtrail-stop.json": {"cloudtrail-disabled"},
    "aws.defense-evasion.organizations-leave.json": {"left-organization"},
    "aws.defense-evasion.vpc-remove-flow-logs.json": {"flow-logs-deleted"},
    "aws.exfiltration.ec2-security-group-open-port-22-ingress.json": {"security-group-open-to-world"},
    "aws.initial-access.console-login-without-mfa.json": {"console-login-without-mfa"},
    "aws.persistence.iam-backdoor-user.json": {"credentials-for-another-user"},
    "aws.persistence.iam-create-admin-user.json": {"credentials-for-another-user"},
    "aws.persistence.iam-create-user-login-profile.json": {"credentials-for-another-user"},
    "aws.privilege-escalation.iam-update-user-login-profile.json": {"credentials-for-another-user"},
}
# StreamAlert's rules that mean what a built-in means.
STREAMALERT_SAME = {"cloudtrail_root_account_usage": "root-account-use",
                    "cloudtrail_security_group_ingress_anywhere": "security-group-open-to-world",
                    "cloudtrail_snapshot_or_ami_made_public": "snapshot-or-image-made-public",
                    "public_ami": "snapshot-or-image-made-public"}


@pytest.fixture(scope="module")
def index():
    return SignatureIndex.build(compile_signature(s["name"], s["pattern"], s.get("conditions")) for s in BUILTIN)


def _fired(index, records) -> set[str]:
    return {m.name for r in records for m in index.match(EventView.from_record(r))}


@needs_samples
@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(STRATUS, "*.json"))), ids=os.path.basename)
def test_each_builtin_fires_on_its_detonation_and_stays_silent_on_the_rest(index, path):
    with open(path) as handle:
        records = json.load(handle)
    assert _fired(index, records) == STRATUS_EXPECTED.get(os.path.basename(path), set())


@needs_samples
def test_the_builtins_agree_with_streamalerts_own_test_cases(index):
    checked = 0
    for path in sorted(glob.glob(os.path.join(STREAMALERT, "*.json"))):
        with open(path) as handle:
            cases = json.load(handle)
        for case in cases:
            ours = {STREAMALERT_SAME[r] for r in case["trigger_rules"] if r in STREAMALERT_SAME}
            rule_names = {r for r in STREAMALERT_SAME if r in os.path.basename(path) or r in case["trigger_rules"]}
            if not rule_names:
                continue
            fired = _fired(index, records_in(case)) & set(STREAMALERT_SAME.values())
            assert fired == ours, (path, case["description"])
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("spec", BUILTIN + FLOW_BUILTIN, ids=[s["name"] for s in BUILTIN + FLOW_BUILTIN])
def test_each_builtin_passes_its_own_examples(spec):
    results = run_examples(compile_signature(spec["name"], spec["pattern"], spec.get("conditions")), spec["tests"])
    assert results and all(r.passed for r in results), [r for r in results if not r.passed]
    assert {r.kind for r in results} == {"positive", "negative"}


def test_a_failing_example_says_why():
    compiled = compile_signature("x", {"detail": {"eventName": ["StopLogging"]}}, {"errors": False})
    results = run_examples(compiled, {"positive": [{"eventName": "StartLogging"},
                                                   {"eventName": "StopLogging", "errorCode": "AccessDenied"}],
                                      "negative": [{"eventName": "StopLogging"}]})
    assert [r.passed for r in results] == [False, False, False]
    assert "eventName" in results[0].detail and "the call failed" in results[1].detail


def test_the_index_only_tries_signatures_that_name_the_event():
    many = [compile_signature(f"s{i}", {"detail": {"eventName": [f"Call{i}"]}}) for i in range(1000)]
    loose = compile_signature("any-root", {"detail": {"userIdentity": {"type": ["Root"]}}})
    index = SignatureIndex.build(many + [loose])
    assert len(index) == 1001
    from audit.cloudtrail.patterns import as_event

    plain, root = {"eventName": "Call7"}, {"eventName": "Call7", "userIdentity": {"type": "Root"}}
    assert [s.name for s in index.candidates("Call7", as_event(plain))] == ["s7"]
    assert [s.name for s in index.candidates("Call7", as_event(root))] == ["s7", "any-root"]
    assert [s.name for s in index.match(EventView.from_record(root))] == ["s7", "any-root"]
    assert [s.name for s in index.match(EventView.from_record(plain))] == ["s7"]


@pytest.mark.parametrize("conditions, message", [
    ({"team": ["x"]}, "conditions.team: unknown"), ({"mfa": "no"}, "conditions.mfa"),
    ({"hours": {"from": 25, "to": 2}}, "conditions.hours"), ({"threshold": {"count": 0, "minutes": 5}}, "threshold"),
    ({"threshold": {"count": 3, "minutes": 5, "by": "colour"}}, "threshold"), ({"teams": "payments"}, "teams"),
])
def test_bad_conditions_are_named(conditions, message):
    with pytest.raises(ValueError, match=message):
        conditions_check(conditions)


def test_conditions_over_the_enriched_event():
    from datetime import datetime, timezone

    compiled = compile_signature("night-writes", {"detail": {"readOnly": [False]}},
                                 {"teams": ["payments"], "hours": {"from": 22, "to": 6}, "mfa": False})
    index = SignatureIndex.build([compiled])
    base = EventView.from_record({"eventName": "RunInstances", "readOnly": False}, {"team": "payments"})

    def at(hour, **changes):
        return EventView(**{**base.__dict__, "time": datetime(2026, 11, 28, hour, tzinfo=timezone.utc), **changes})

    assert index.match(at(23)) and index.match(at(3))
    assert not index.match(at(12))  # daytime
    assert not index.match(at(23, team="research"))
    assert not index.match(at(23, mfa=True))
