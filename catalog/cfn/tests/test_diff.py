"""Parameter diffs between versions: added, removed, changed attributes; unchanged left out."""

import json

from catalog.cfn.diff import parameter_diff
from catalog.cfn.loader import load_template
from catalog.cfn.parameters import ParameterSpec, extract_parameters

OLD = """\
Parameters:
  Size: {Type: String, Default: small, AllowedValues: [small, large]}
  Legacy: {Type: String}
  Same: {Type: Number, Default: "1"}
Resources:
  T: {Type: AWS::SNS::Topic}
"""
NEW = """\
Metadata:
  AWS::CloudFormation::Interface:
    ParameterLabels: {Size: {default: Instance size}}
Parameters:
  Added: {Type: CommaDelimitedList}
  Same: {Type: Number, Default: "1"}
  Size: {Type: String, Default: large, AllowedValues: [small, large, xlarge], NoEcho: true}
Resources:
  T: {Type: AWS::SNS::Topic}
"""


def test_it_reports_added_removed_and_changed_sorted_by_key():
    changes = parameter_diff(extract_parameters(load_template(OLD)), extract_parameters(load_template(NEW)))
    assert [(c.key, c.change) for c in changes] == [("Added", "added"), ("Legacy", "removed"), ("Size", "changed")]
    added, removed, changed = changes
    assert added.after.type == "CommaDelimitedList" and added.before is None and added.fields == []
    assert removed.before.key == "Legacy" and removed.after is None
    assert [(f.name, f.before, f.after) for f in changed.fields] == [
        ("default", "small", "large"),
        ("allowed_values", ["small", "large"], ["small", "large", "xlarge"]),
        ("no_echo", False, True),
        ("label", None, "Instance size"),
    ]


def test_it_ignores_a_parameter_that_only_moved():
    a = [ParameterSpec("A", "String", order=0), ParameterSpec("B", "String", order=1)]
    b = [ParameterSpec("B", "String", order=0), ParameterSpec("A", "String", order=1)]
    assert parameter_diff(a, b) == []
    assert parameter_diff([], []) == []


def test_it_serialises_for_the_api():
    changes = parameter_diff(extract_parameters(load_template(OLD)), extract_parameters(load_template(NEW)))
    data = json.loads(json.dumps([c.as_dict() for c in changes]))
    assert data[2]["key"] == "Size" and data[2]["change"] == "changed"
    assert data[2]["fields"][0] == {"name": "default", "before": "small", "after": "large"}
    assert data[0]["before"] is None and data[0]["after"]["type"] == "CommaDelimitedList"
    assert ParameterSpec.from_dict(data[1]["before"]).key == "Legacy"
