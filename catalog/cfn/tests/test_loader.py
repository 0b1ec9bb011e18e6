"""Parsing: short-form tags, JSON vs YAML, located errors, and hostile input refused fast."""

import hashlib
import os
import time

import pytest

from catalog.cfn.analysis import analyze
from catalog.cfn.loader import TemplateError, TemplateMessage, load_template

YAML = """\
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Condition IsProd]]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-data"
      Tags:
        - Key: az
          Value: !Select [0, !GetAZs ""]
        - Key: parts
          Value: !Join ["-", !Split [",", "a,b"]]
        - Key: arn
          Value: !If [IsProd, !GetAtt Topic.TopicArn, !ImportValue shared-arn]
        - Key: mapped
          Value: !FindInMap [M, !Ref "AWS::Region", k]
        - Key: data
          Value: !Base64 hello
        - Key: cidr
          Value: !Select [0, !Cidr ["10.0.0.0/16", 2, 8]]
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Fn::Transform: {Name: Macro}
Outputs:
  Arn:
    Value: !GetAtt [Topic, TopicArn]
    Extra: !Transform {Name: AWS::Include}
"""


def test_it_turns_every_short_form_tag_into_its_long_form():
    t = load_template(YAML).template
    assert t["AWSTemplateFormatVersion"] == "2010-09-09"  # an unquoted YAML date, kept as text
    assert t["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert t["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert t["Conditions"]["Both"] == {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [
        {"Condition": "NotProd"}, {"Condition": "IsProd"}]}]}
    props = t["Resources"]["Bucket"]["Properties"]
    assert props["BucketName"] == {"Fn::Sub": "${AWS::StackName}-data"}
    values = [tag["Value"] for tag in props["Tags"]]
    assert values == [
        {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        {"Fn::Join": ["-", {"Fn::Split": [",", "a,b"]}]},
        {"Fn::If": ["IsProd", {"Fn::GetAtt": ["Topic", "TopicArn"]}, {"Fn::ImportValue": "shared-arn"}]},
        {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]},
        {"Fn::Base64": "hello"},
        {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]},
    ]
    assert t["Outputs"]["Arn"]["Value"] == {"Fn::GetAtt": ["Topic", "TopicArn"]}
    assert t["Outputs"]["Arn"]["Extra"] == {"Fn::Transform": {"Name": "AWS::Include"}}


def test_it_returns_plain_data_with_format_hash_and_lines():
    loaded = load_template(YAML)
    assert loaded.format == "yaml"
    assert loaded.content_hash == hashlib.sha256(YAML.encode()).hexdigest()

    def plain(x):
        assert type(x) in (dict, list, str, int, float, bool, type(None)), type(x)
        for v in (x.values() if isinstance(x, dict) else x if isinstance(x, list) else []):
            plain(v)
    plain(loaded.template)
    assert loaded.locate(["Parameters", "Env", "Default"])[0] == 3
    assert loaded.locate(["Resources", "Topic"]) == (26, 3)
    assert loaded.locate(["Resources", "Bucket", "Properties", "Tags", 2])[0] == 18


def test_it_reads_json_with_the_json_parser_and_keeps_its_lines():
    text = '{\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue"}\n  },\n  "Outputs": {}\n}\n'
    loaded = load_template(text)
    assert loaded.format == "json"
    assert loaded.template == {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {}}
    assert loaded.locate(["Resources", "Q", "Type"])[0] == 3
    assert load_template(text.encode()).content_hash == loaded.content_hash


def refused(text, **kw) -> TemplateMessage:
    with pytest.raises(TemplateError) as exc:
        load_template(text, **kw)
    assert len(exc.value.messages) == 1
    message = exc.value.messages[0]
    assert message.level == "error"
    return message


def test_it_refuses_a_json_trailing_comma_that_yaml_would_accept():
    m = refused('{\n  "Resources": {\n    "B": {"Type": "AWS::S3::Bucket",}\n  }\n}')
    assert (m.rule, m.line) == ("E0000", 3)
    assert "double quotes" in m.message


def test_it_locates_yaml_syntax_errors_and_duplicate_keys():
    m = refused("Resources:\n  B:\n    Type: [unclosed\n  C: 1\n")
    assert m.rule == "E0000" and m.line == 4 and m.column
    m = refused("Resources:\n  B: {Type: AWS::SNS::Topic}\n  B: {Type: AWS::SQS::Queue}\n")
    assert m.rule == "E0000" and "Duplicate" in m.message and m.line == 2
    m = refused('{\n "Resources": {},\n "Resources": {}\n}')
    assert m.rule == "E0000" and "Duplicate" in m.message and "lines 2, 3" in m.message and m.line == 2


@pytest.mark.parametrize("text, rule, words", [
    ("- a\n- b\n", "GR005", "must be a mapping"),
    ("just a string\n", "GR005", "must be a mapping"),
    ("", "GR005", "empty"),
    ("  \n\n", "GR005", "empty"),
    ("Description: nothing to make\n", "GR006", "no Resources"),
    ("Resources:\n", "GR006", "no Resources"),
    ("Resources: {}\n", "GR006", "at least one"),
    ('{"Description": "x"}', "GR006", "no Resources"),
    ("---\nResources: {}\n---\nResources: {}\n", "E0000", "more than one YAML document"),
    ("Resources: !!python/object/apply:os.system [ls]\n", "E0000", "constructor"),
])
def test_it_refuses_what_is_not_a_template(text, rule, words):
    m = refused(text)
    assert m.rule == rule and words in m.message


def test_it_allows_an_ordinary_alias_but_refuses_a_self_referencing_one():
    loaded = load_template("Tags: &t [{Key: a, Value: b}]\nResources:\n  B: {Type: AWS::S3::Bucket, "
                           "Properties: {Tags: *t}}\n")
    assert loaded.template["Resources"]["B"]["Properties"]["Tags"] == [{"Key": "a", "Value": "b"}]
    assert refused("a: &a [1, *a]\nResources: {}\n").rule == "GR003"
    assert refused("a: *nowhere\nResources: {}\n").rule == "E0000"


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\nResources:\n  B: {Type: AWS::S3::Bucket, Metadata: *l%d}\n" % levels


def test_it_refuses_a_yaml_alias_bomb_at_once():
    bomb = billion_laughs()  # 10**10 strings once expanded, 1 kB of text
    start = time.perf_counter()
    m = refused(bomb)
    assert time.perf_counter() - start < 0.1
    assert m.rule == "GR003" and "alias bomb" in m.message and m.line == 4  # l3 passes 10,000
    a = analyze(bomb)  # the entry point too: an analysis with the error, no exception
    assert not a.ok and a.template is None and a.errors[0].rule == "GR003"


def test_it_refuses_text_over_the_size_limit_before_parsing():
    big = "Resources:\n" + "#" * 2_000_000 + "\n"
    start = time.perf_counter()
    m = refused(big)
    assert time.perf_counter() - start < 0.5
    assert m.rule == "GR001" and "1,000,000" in m.message
    assert refused("Resources: {}\n" + " " * 200, max_bytes=100).rule == "GR001"
    assert analyze(big).errors[0].rule == "GR001"


@pytest.mark.parametrize("text", [
    "Resources:\n  B:\n    Metadata: " + "[" * 200 + "]" * 200 + "\n",
    '{"Resources": {"B": {"Metadata": ' + "[" * 200 + "]" * 200 + "}}}",
    "Resources:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 201)),
])
def test_it_refuses_nesting_deeper_than_the_limit(text):
    m = refused(text)
    assert m.rule == "GR004" and m.line


def test_it_refuses_binary_data():
    blob = bytes(range(256)) * 40 + os.urandom(1024)
    assert refused(blob).rule == "GR002"
    m = refused("Resources:\n  B: {Type: AWS::S3::Bucket}\n\x00\x01\x02PK\x03\x04")
    assert m.rule == "GR002" and m.line == 3 and "U+0000" in m.message
    assert analyze(blob).errors[0].rule == "GR002"


def test_it_formats_messages_for_people_and_for_storage():
    m = TemplateMessage("error", "Something is wrong", 12, 3, "E3012", ["Resources", "B", 0])
    assert str(m) == "line 12: E3012 Something is wrong"
    assert str(TemplateMessage("warning", "No line", rule="GR101")) == "GR101 No line"
    assert TemplateMessage.from_dict(m.as_dict()) == m
