"""The template diagram: the graph of references, and its SVG."""

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cfnlint.decode import decode_str

from catalog.cfn.diagram import Edge, Node, TemplateGraph, render_svg, template_graph

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "samples" / "templates"  # beside the project
SVG = "{http://www.w3.org/2000/svg}"


def edges(template: dict, **options: bool) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in template_graph(template, **options).edges}


def sample(relative: str) -> dict:
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"sample template {path} is not on this machine")
    template, matches = decode_str(path.read_text())
    assert template is not None, matches
    return template


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}title")]


# ---------------------------------------------------------------- edges

def test_it_finds_refs_in_properties():
    template = {"Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC"},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    }}
    assert edges(template) == {("Subnet", "Vpc", "Ref")}


def test_it_finds_getatt_in_list_and_dotted_string_forms():
    template = {"Resources": {
        "Sg": {"Type": "AWS::EC2::SecurityGroup"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Stack": {"Type": "AWS::CloudFormation::Stack"},
        "Instance": {"Type": "AWS::EC2::Instance", "Properties": {
            "SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}],
            "IamInstanceProfile": {"Fn::GetAtt": "Role.Arn"},
            "UserData": {"Fn::GetAtt": "Stack.Outputs.Script"},
        }},
    }}
    assert edges(template) == {("Instance", "Sg", "GetAtt"), ("Instance", "Role", "GetAtt"),
                               ("Instance", "Stack", "GetAtt")}


def test_it_finds_depends_on_as_a_string_and_as_a_list():
    template = {"Resources": {
        "A": {"Type": "AWS::SNS::Topic"},
        "B": {"Type": "AWS::SQS::Queue", "DependsOn": "A"},
        "C": {"Type": "AWS::SQS::Queue", "DependsOn": ["A", "B", "Missing"]},
    }}
    assert edges(template) == {("B", "A", "DependsOn"), ("C", "A", "DependsOn"), ("C", "B", "DependsOn")}


def test_it_finds_references_inside_sub_strings():
    template = {"Parameters": {"Env": {"Type": "String"}}, "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Other": {"Type": "AWS::SNS::Topic"},
        "Name": {"Type": "AWS::SNS::Topic"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "A": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Env}"},
            "B": {"Fn::Sub": "${Role.Arn}"},
            "C": {"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Other"}}]},  # Name is a variable here
        }},
    }}
    assert edges(template) == {("Fn", "Bucket", "Sub"), ("Fn", "Role", "Sub"), ("Fn", "Other", "Ref")}
    assert ("Fn", "Env", "Sub") in edges(template, include_parameters=True)


def test_it_walks_if_branches_nested_lists_metadata_and_policies():
    template = {"Conditions": {"IsProd": {"Fn::Equals": ["a", "a"]}}, "Resources": {
        "Big": {"Type": "AWS::EC2::Volume"}, "Small": {"Type": "AWS::EC2::Volume"},
        "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Instance": {"Type": "AWS::EC2::Instance", "Condition": "IsProd",
                     "Metadata": {"AWS::CloudFormation::Init": {"config": {"files": {"/x": {
                         "content": {"Fn::Join": ["", ["h=", {"Ref": "Handle"}]]}}}}}},
                     "CreationPolicy": {"ResourceSignal": {"Count": {"Fn::If": ["IsProd", 1, 0]}}},
                     "Properties": {"Volumes": [[{"Device": "sdf", "VolumeId": {
                         "Fn::If": ["IsProd", {"Ref": "Big"}, {"Fn::GetAtt": ["Small", "VolumeId"]}]}}]],
                         "Tags": [{"Key": "t", "Value": {"Fn::Select": [0, [{"Ref": "Topic"}]]}}]}},
    }}
    assert edges(template) == {("Instance", "Big", "Ref"), ("Instance", "Small", "GetAtt"),
                               ("Instance", "Handle", "Ref"), ("Instance", "Topic", "Ref")}


def test_it_ignores_pseudo_parameters_parameters_unknown_names_and_self_references():
    template = {"Parameters": {"Size": {"Type": "Number"}}, "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "A": {"Ref": "AWS::Region"}, "B": {"Ref": "Size"}, "C": {"Ref": "Nowhere"}, "D": {"Ref": "Table"},
            "E": {"Fn::Sub": "${AWS::StackName}-${Table}"}}},
    }}
    assert edges(template) == set()
    assert edges(template, include_parameters=True) == {("Table", "Size", "Ref")}


def test_it_adds_parameters_and_outputs_as_nodes_when_asked():
    template = {"Parameters": {"Env": {"Type": "String"}, "Unused": {"Type": "Number"}},
                "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Name": {"Ref": "Env"}}}},
                "Outputs": {"Bucket": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]},
                                       "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-${Env}"}}}}}
    graph = template_graph(template)
    assert [n.id for n in graph.nodes] == ["Bucket"] and graph.edges == ()
    graph = template_graph(template, include_parameters=True, include_outputs=True)
    assert [(n.id, n.kind) for n in graph.nodes] == [("Env", "parameter"), ("Unused", "parameter"),
                                                      ("Bucket", "resource"), ("Outputs/Bucket", "output")]
    assert {(e.source, e.target, e.kind) for e in graph.edges} == {
        ("Bucket", "Env", "Ref"), ("Outputs/Bucket", "Bucket", "GetAtt"), ("Outputs/Bucket", "Env", "Sub")}


@pytest.mark.parametrize(("resource_type", "service", "category"), [
    ("AWS::EC2::Instance", "EC2", "compute"),
    ("AWS::EC2::SecurityGroup", "EC2", "security"),
    ("AWS::EC2::VPC", "EC2", "network"),
    ("AWS::EC2::SubnetRouteTableAssociation", "EC2", "network"),
    ("AWS::EC2::Volume", "EC2", "storage"),
    ("AWS::Lambda::Function", "Lambda", "compute"),
    ("AWS::S3::Bucket", "S3", "storage"),
    ("AWS::RDS::DBInstance", "RDS", "database"),
    ("AWS::DynamoDB::Table", "DynamoDB", "database"),
    ("AWS::IAM::Role", "IAM", "security"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "ELBv2", "network"),
    ("AWS::Logs::LogGroup", "Logs", "management"),
    ("AWS::SNS::Topic", "SNS", "other"),
    ("Custom::Seeder", "Custom", "management"),
    ("AWS::CloudFormation::CustomResource", "Custom", "management"),
    ("MyOrg::Thing::Widget", "Thing", "other"),
    (None, "Unknown", "other"),
])
def test_it_names_the_service_and_category_of_each_resource(resource_type, service, category):
    body = {"Type": resource_type} if resource_type else {}
    [node] = template_graph({"Resources": {"R": body}}).nodes
    assert (node.service, node.category) == (service, category)


def test_it_orders_nodes_and_edges_deterministically():
    resources = {f"R{i}": {"Type": "AWS::SQS::Queue", "DependsOn": [f"R{j}" for j in range(i)]} for i in range(6)}
    forward = template_graph({"Resources": resources})
    backward = template_graph({"Resources": dict(reversed(list(resources.items())))})
    assert forward == backward
    assert [n.id for n in forward.nodes] == sorted(resources)
    assert list(forward.edges) == sorted(forward.edges)


def test_it_copes_with_malformed_sections():
    assert template_graph({"Resources": ["not", "a", "mapping"]}) == TemplateGraph()
    graph = template_graph({"Resources": {"A": "nope", 7: {"Type": "AWS::S3::Bucket", "DependsOn": [3, None]},
                                          "B": {"Type": 5, "Properties": {"X": {"Fn::GetAtt": [{"Ref": "7"}]}}}}})
    assert [(n.id, n.type) for n in graph.nodes] == [("7", "AWS::S3::Bucket"), ("B", "Unknown")]
    assert {(e.source, e.target) for e in graph.edges} == {("B", "7")}


# ---------------------------------------------------------------- real samples

def test_it_finds_the_edges_of_the_web_server_and_security_group_sample():
    template = sample("aws-cloudformation-templates/EC2/EC2InstanceWithSecurityGroupSample.yaml")
    assert edges(template) == {("EC2Instance", "InstanceSecurityGroup", "GetAtt")}
    assert edges(template, include_parameters=True, include_outputs=True) == {
        ("EC2Instance", "InstanceSecurityGroup", "GetAtt"), ("EC2Instance", "InstanceType", "Ref"),
        ("EC2Instance", "KeyName", "Ref"), ("EC2Instance", "LatestAmiId", "Ref"), ("EC2Instance", "Subnets", "Ref"),
        ("InstanceSecurityGroup", "SSHLocation", "Ref"), ("Outputs/InstanceId", "EC2Instance", "Ref"),
        ("Outputs/AZ", "EC2Instance", "GetAtt"), ("Outputs/PublicDNS", "EC2Instance", "GetAtt"),
        ("Outputs/PublicIP", "EC2Instance", "GetAtt")}


def test_it_finds_the_edges_of_the_service_catalog_apache_sample():
    template = sample("service-catalog-reference-architectures/ec2/sc-ec2-linux-apache-nokey.json")
    found = edges(template)
    assert ("WebServerInstance", "WebSecurityGroup", "GetAtt") in found
    assert all(source != "WebSecurityGroup" for source, _, _ in found)


def test_it_finds_the_edges_of_the_vpc_sample():
    template = sample("aws-cloudformation-templates/VPC/VPC_With_Managed_NAT_And_Private_Subnet.yaml")
    found = edges(template)
    assert {("PublicRoute", "GatewayToInternet", "DependsOn"), ("NATGateway0", "ElasticIP0", "GetAtt"),
            ("PublicSubnet0", "VPC", "Ref"), ("GatewayToInternet", "InternetGateway", "Ref")} <= found
    root = parse(render_svg(template_graph(template, include_parameters=True, include_outputs=True)))
    assert {name for name in template["Resources"]} <= {t.split("\n")[0] for t in texts(root)}


# ---------------------------------------------------------------- SVG

def test_it_draws_a_self_contained_svg_naming_every_resource():
    template = sample("aws-cloudformation-templates/EC2/EC2InstanceWithSecurityGroupSample.yaml")
    svg = render_svg(template_graph(template, include_parameters=True, include_outputs=True))
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width:.0f} {height:.0f}" and width > 0 and height > 0
    found = texts(root)
    for name in ("EC2Instance", "InstanceSecurityGroup", "SSHLocation", "PublicIP"):
        assert any(name in t for t in found), name
    assert "EC2::Instance" in found and "EC2::SecurityGroup" in found
    assert not [el for el in root.iter() if el.tag in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}image")]
    assert "href" not in svg and "@import" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    markers = {el.get("id") for el in root.iter(f"{SVG}marker")}
    used = {el.get("marker-end")[5:-1] for el in root.iter(f"{SVG}path") if el.get("marker-end")}
    assert used and used <= markers
    dashes = {el.get("stroke-dasharray") for el in root.iter(f"{SVG}path") if el.get("marker-end")}
    assert dashes == {"none"}  # Ref and GetAtt are solid lines


def test_it_dashes_depends_on_and_lists_edge_kinds_in_the_legend():
    template = {"Resources": {"A": {"Type": "AWS::SNS::Topic"}, "B": {"Type": "AWS::SQS::Queue", "DependsOn": "A"}}}
    root = parse(render_svg(template_graph(template)))
    [path] = [el for el in root.iter(f"{SVG}path") if el.get("marker-end")]
    assert path.get("stroke-dasharray") not in (None, "none")
    assert path.find(f"{SVG}title").text == "B uses A: DependsOn"
    assert "DependsOn" in texts(root) and "other" in texts(root)


HOSTILE = '<script>alert("x")</script>&amp;\'"]]>\x00\x1b'


def test_it_escapes_every_text_from_the_template():
    template = {"Parameters": {f"P{HOSTILE}": {"Type": f"String{HOSTILE}"}},
                "Resources": {
                    f"R{HOSTILE}": {"Type": f'AWS::S3::Bucket"><script>x</script>{HOSTILE}'},
                    "Plain": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": f"R{HOSTILE}"}}},
                },
                "Outputs": {f"O{HOSTILE}": {"Value": {"Ref": "Plain"}}}}
    graph = template_graph(template, include_parameters=True, include_outputs=True)
    svg = render_svg(graph, id_prefix='x" onload="alert(1)')
    root = parse(svg)
    assert not [el for el in root.iter() if el.tag.endswith("script") or any(a.startswith("on") for a in el.attrib)]
    assert "<script" not in svg and "onload=" not in svg and 'id="xonloadalert1-Ref"' in svg
    shown = "R" + HOSTILE.replace("\x00", "\ufffd").replace("\x1b", "\ufffd")
    assert any(t.startswith(shown + "\n") for t in texts(root))  # the full id, as text, in a title


def test_it_breaks_cycles_and_draws_their_edges_in_red():
    template = {"Resources": {
        "A": {"Type": "AWS::SNS::Topic", "DependsOn": "C"},
        "B": {"Type": "AWS::SQS::Queue", "Properties": {"Topic": {"Ref": "A"}}},
        "C": {"Type": "AWS::Lambda::Function", "Properties": {"Queue": {"Fn::GetAtt": "B.Arn"}}},
    }}
    assert edges(template) == {("A", "C", "DependsOn"), ("B", "A", "Ref"), ("C", "B", "GetAtt")}
    root = parse(render_svg(template_graph(template)))
    titles = [el.find(f"{SVG}title").text for el in root.iter(f"{SVG}path") if el.get("marker-end")]
    assert len(titles) == 3 and sum("(dependency cycle)" in t for t in titles) == 1
    assert "dependency cycle" in texts(root) and {"A", "B", "C"} <= set(texts(root))


def test_it_draws_an_empty_template():
    graph = template_graph({})
    assert graph == TemplateGraph()
    root = parse(render_svg(graph))
    assert any("no resources" in t for t in texts(root))


def test_it_draws_200_resources_quickly():
    resources = {}
    for i in range(200):
        properties = {"Up": {"Ref": f"R{i // 2}"}} if i else {}
        if i > 10:
            properties["Name"] = {"Fn::Sub": f"${{R{i - 10}.Arn}}-${{R{i - 3}}}"}
        resources[f"R{i}"] = {"Type": ("AWS::S3::Bucket", "AWS::EC2::Instance", "AWS::IAM::Role")[i % 3],
                              "DependsOn": [f"R{i - 1}"] if i % 7 == 0 and i else [], "Properties": properties}
    started = time.perf_counter()
    graph = template_graph({"Resources": resources})
    svg = render_svg(graph)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, elapsed  # about 0.05 s on a laptop; generous for busy CI machines
    assert len(graph.nodes) == 200 and len(graph.edges) > 300
    assert {f"R{i}" for i in range(200)} <= set(texts(parse(svg)))


def test_it_wraps_a_wide_layer_into_columns():
    root = parse(render_svg(template_graph({"Resources": {f"B{i:03}": {"Type": "AWS::S3::Bucket"} for i in range(40)}})))
    xs = {el.get("x") for el in root.iter(f"{SVG}rect") if el.get("rx") == "6"}
    assert len(xs) == 4  # 40 independent buckets: 12 to a column
    assert float(root.get("height")) < 1200


def test_it_draws_a_hand_made_graph_without_crashing_on_dangling_edges():
    node = Node("A", "A", "resource", "AWS::S3::Bucket", "S3", "storage")
    graph = TemplateGraph((node,), (Edge("A", "Ghost", "Ref"), Edge("A", "A", "Ref")))
    assert "A" in texts(parse(render_svg(graph)))


def test_it_truncates_long_names_in_boxes_but_keeps_them_whole_in_titles():
    name = "A" + "VeryLong" * 10
    root = parse(render_svg(template_graph({"Resources": {name: {"Type": "AWS::S3::Bucket"}}})))
    assert any(t.endswith("…") and name.startswith(t[:-1]) for t in texts(root))
    assert f"{name}\nAWS::S3::Bucket" in texts(root)
