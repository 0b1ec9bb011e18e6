"""cfn-lint as a library: severities mapped, lines kept, cheap after the first call."""

import time

import pytest

from catalog.cfn.lint import lint_template
from catalog.cfn.loader import TemplateError, load_template

BROKEN = """\
Parameters:
  Unused: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: 42
      NoSuchProperty: x
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["", [a, b]]
"""


def test_it_maps_cfn_lint_severities_and_keeps_lines():
    messages = lint_template(BROKEN, load_template(BROKEN))
    by_rule = {m.rule: m for m in messages}
    assert by_rule["E3002"].level == "error" and by_rule["E3002"].line == 8  # NoSuchProperty
    assert by_rule["E3002"].path == ["Resources", "Bucket", "Properties", "NoSuchProperty"]
    assert by_rule["W2001"].level == "warning" and by_rule["W2001"].line == 2  # Unused parameter
    assert by_rule["I1022"].level == "info" and by_rule["I1022"].line == 12  # Join with "" -> Sub
    assert [m.line for m in messages] == sorted(m.line for m in messages)


def test_it_loads_the_text_itself_when_not_given_a_loaded_template():
    assert {m.rule for m in lint_template(BROKEN)} == {m.rule for m in lint_template(BROKEN, load_template(BROKEN))}
    with pytest.raises(TemplateError):
        lint_template("{not json")


def test_it_does_not_change_the_loaded_template():
    sam = ("Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: {Timeout: 5}\nResources:\n  Fn:\n"
           "    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12, Handler: a.b, InlineCode: x}\n")
    loaded = load_template(sam)
    before = repr(loaded.nodes)
    lint_template(sam, loaded)  # cfn-lint merges SAM Globals into the tree it is given
    assert repr(loaded.nodes) == before


def test_it_is_cheap_once_warm():
    lint_template(BROKEN, load_template(BROKEN))
    start = time.perf_counter()
    for _ in range(5):
        lint_template(BROKEN, load_template(BROKEN))
    assert (time.perf_counter() - start) / 5 < 0.5  # ~0.05 s here; cfnlint.api.lint() rebuilds its rules (~0.3 s)
