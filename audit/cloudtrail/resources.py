"""Extract the AWS resources a CloudTrail record refers to (no Django, no boto3).

Types follow AWS Config / CloudFormation naming (``AWS::EC2::SecurityGroup`` ...).
ARNs are built where they can be derived from the record; otherwise ``arn`` is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

__all__ = ["Resource", "resources_of"]


@dataclass(frozen=True, order=True)
class Resource:
    type: str
    id: str
    arn: str | None = None

    def as_dict(self) -> dict:
        return {"type": self.type, "id": self.id, "arn": self.arn}


# EC2-style ids, recognised by prefix wherever they appear (request or response).
_EC2_PREFIXES: tuple[tuple[str, str, str | None], ...] = (
    # (id prefix, type, ARN resource segment); order matters (longest first)
    ("subnet-", "AWS::EC2::Subnet", "subnet"),
    ("sg-", "AWS::EC2::SecurityGroup", "security-group"),
    ("vpc-", "AWS::EC2::VPC", "vpc"),
    ("ami-", "AWS::EC2::Image", "image"),
    ("snap-", "AWS::EC2::Snapshot", "snapshot"),
    ("vol-", "AWS::EC2::Volume", "volume"),
    ("fl-", "AWS::EC2::FlowLog", "vpc-flow-log"),
    ("acl-", "AWS::EC2::NetworkAcl", "network-acl"),
    ("i-", "AWS::EC2::Instance", "instance"),
)
# keys (lower-cased) whose values are EC2 ids
_EC2_KEYS = frozenset(
    k.lower()
    for k in (
        "groupId", "groupIds", "instanceId", "instanceIds", "vpcId", "vpcIds",
        "subnetId", "subnetIds", "imageId", "imageIds", "snapshotId", "snapshotIds",
        "volumeId", "volumeIds", "flowLogId", "flowLogIds", "networkAclId",
        "resourceId", "resourceIds", "sourceSnapshotId", "sourceImageId",
    )
)
_MAX_DEPTH = 8


def _partition(region: str | None) -> str:
    region = region or ""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _s(value: Any) -> str | None:
    """A usable non-empty string id, else None (placeholders like '...' are dropped)."""
    if isinstance(value, str):
        value = value.strip()
        if value and value != "..." and value.lower() != "null":
            return value
    return None


def _strings(value: Any) -> Iterator[str]:
    """Strings in value: a str, a list of str, or a query-API ``{"content": ...}`` node."""
    if isinstance(value, str):
        if _s(value):
            yield value.strip()
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict) and "content" in value:
        yield from _strings(value["content"])


def _walk(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """All (key, value) pairs in nested dicts/lists, to a bounded depth."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            if isinstance(v, (dict, list)):
                yield from _walk(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, (dict, list)):
                yield from _walk(v, depth + 1)


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        return parts
    return None


# (service, resource-type prefix) -> Config type, for the record's own `resources` list
_ARN_TYPES = {
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "group"): "AWS::IAM::Group",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("ssm", "parameter"): "AWS::SSM::Parameter",
    ("ssm", "document"): "AWS::SSM::Document",
    ("cloudtrail", "trail"): "AWS::CloudTrail::Trail",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("lambda", "layer"): "AWS::Lambda::LayerVersion",
    ("kms", "key"): "AWS::KMS::Key",
    ("kms", "alias"): "AWS::KMS::Alias",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("rds", "db"): "AWS::RDS::DBInstance",
    ("rds", "snapshot"): "AWS::RDS::DBSnapshot",
    ("rds", "cluster"): "AWS::RDS::DBCluster",
    ("rds", "cluster-snapshot"): "AWS::RDS::DBClusterSnapshot",
    ("cloudformation", "stack"): "AWS::CloudFormation::Stack",
    ("sns", ""): "AWS::SNS::Topic",
    ("sqs", ""): "AWS::SQS::Queue",
}


def _resource_from_arn(arn: str, declared_type: str | None = None) -> Resource | None:
    parts = _arn_parts(arn)
    if not parts:
        return None
    _, _, service, _, _, rest = parts
    if service == "s3":
        if "/" in rest:
            return Resource(declared_type or "AWS::S3::Object", rest, arn)
        return Resource(declared_type or "AWS::S3::Bucket", rest, arn)
    if service == "ec2":
        seg, _, rid = rest.partition("/")
        for prefix, typ, arn_seg in _EC2_PREFIXES:
            if arn_seg == seg:
                return Resource(declared_type or typ, rid, arn)
    for sep in ("/", ":"):
        if sep in rest:
            seg, _, rid = rest.partition(sep)
            break
    else:
        seg, rid = "", rest
    if service == "iam" and "/" in rid:  # path: keep the name only
        rid = rid.rsplit("/", 1)[1]
    typ = declared_type or _ARN_TYPES.get((service, seg)) or _ARN_TYPES.get((service, ""))
    if typ is None:
        typ = f"AWS::{service}::{seg or 'Resource'}"
    return Resource(typ, rid or rest, arn)


class _Ctx:
    def __init__(self, record: dict):
        self.region = _s(record.get("awsRegion")) or ""
        acct = record.get("recipientAccountId")
        if acct is None:
            acct = (record.get("userIdentity") or {}).get("accountId")
        self.account = _s(str(acct)) if acct is not None else None
        self.account = self.account or ""
        self.partition = _partition(self.region)
        self.found: list[Resource] = []

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str | None:
        r = self.region if region else ""
        a = self.account if account else ""
        if (region and not r) or (account and not a):
            return None
        return f"arn:{self.partition}:{service}:{r}:{a}:{resource}"

    def add(self, typ: str, rid: str | None, arn: str | None = None) -> None:
        if rid:
            self.found.append(Resource(typ, rid, arn))


def _ec2(ctx: _Ctx, sections: Iterable[Any]) -> None:
    for section in sections:
        for key, value in _walk(section):
            lk = key.lower()
            if lk == "target" or lk in _EC2_KEYS or lk == "deleteflowlogsrequest":
                if lk == "deleteflowlogsrequest" and isinstance(value, dict):
                    value = value.get("FlowLogId") or value.get("FlowLogIds")
                for v in _strings(value):
                    for prefix, typ, seg in _EC2_PREFIXES:
                        if v.startswith(prefix):
                            global_ = typ in ("AWS::EC2::Image", "AWS::EC2::Snapshot")
                            ctx.add(typ, v, ctx.arn("ec2", f"{seg}/{v}", account=not global_))
                            break


def _s3(ctx: _Ctx, req: dict) -> None:
    bucket = _s(req.get("bucketName")) or _s(req.get("Bucket"))
    if not bucket:
        return
    ctx.add("AWS::S3::Bucket", bucket, f"arn:{ctx.partition}:s3:::{bucket}")
    key = _s(req.get("key")) or _s(req.get("Key"))
    if key:
        ctx.add("AWS::S3::Object", f"{bucket}/{key}", f"arn:{ctx.partition}:s3:::{bucket}/{key}")


def _iam(ctx: _Ctx, req: dict, resp: dict) -> None:
    for key, typ, seg in (
        ("userName", "AWS::IAM::User", "user"),
        ("roleName", "AWS::IAM::Role", "role"),
        ("groupName", "AWS::IAM::Group", "group"),
    ):
        name = _s(req.get(key))
        if name:
            ctx.add(typ, name, ctx.arn("iam", f"{seg}/{name}", region=False))
    for key in ("policyArn",):
        arn = _s(req.get(key))
        if arn:
            res = _resource_from_arn(arn, "AWS::IAM::Policy")
            if res:
                ctx.found.append(res)
    # the created/returned entity carries its real ARN (with path)
    for key, typ in (("user", "AWS::IAM::User"), ("role", "AWS::IAM::Role"),
                     ("group", "AWS::IAM::Group"), ("policy", "AWS::IAM::Policy")):
        ent = resp.get(key)
        if isinstance(ent, dict):
            name = _s(ent.get(f"{key}Name"))
            arn = _s(ent.get("arn"))
            if name:
                ctx.add(typ, name, arn)
    ak = resp.get("accessKey")
    if isinstance(ak, dict) and _s(ak.get("userName")):
        name = ak["userName"]
        ctx.add("AWS::IAM::User", name, ctx.arn("iam", f"user/{name}", region=False))


def _cloudtrail(ctx: _Ctx, req: dict, resp: dict) -> None:
    for value in (req.get("name"), req.get("trailName"), req.get("trailARN"),
                  resp.get("trailARN")):
        v = _s(value)
        if not v:
            continue
        if v.startswith("arn:"):
            ctx.add("AWS::CloudTrail::Trail", v.rsplit("/", 1)[-1], v)
        else:
            ctx.add("AWS::CloudTrail::Trail", v, ctx.arn("cloudtrail", f"trail/{v}"))


def _config(ctx: _Ctx, req: dict) -> None:
    for key, typ in (
        ("configurationRecorderName", "AWS::Config::ConfigurationRecorder"),
        ("configRuleName", "AWS::Config::ConfigRule"),
        ("deliveryChannelName", "AWS::Config::DeliveryChannel"),
    ):
        ctx.add(typ, _s(req.get(key)))
    for key, typ in (("configurationRecorder", "AWS::Config::ConfigurationRecorder"),
                     ("deliveryChannel", "AWS::Config::DeliveryChannel"),
                     ("configRule", "AWS::Config::ConfigRule")):
        obj = req.get(key)
        if isinstance(obj, dict):
            name = _s(obj.get("name")) or _s(obj.get("configRuleName"))
            ctx.add(typ, name, _s(obj.get("configRuleArn")))


def _cloudformation(ctx: _Ctx, req: dict, resp: dict) -> None:
    for v in (req.get("stackName"), req.get("stackId"), resp.get("stackId")):
        v = _s(v)
        if not v:
            continue
        if v.startswith("arn:"):  # arn:...:stack/<name>/<uuid>
            rest = v.split(":", 5)[-1]
            name = rest.split("/")[1] if rest.count("/") >= 1 else rest
            ctx.add("AWS::CloudFormation::Stack", name, v)
        else:
            ctx.add("AWS::CloudFormation::Stack", v, None)


def _rds(ctx: _Ctx, req: dict) -> None:
    for key, typ, seg in (
        ("dBInstanceIdentifier", "AWS::RDS::DBInstance", "db"),
        ("dBSnapshotIdentifier", "AWS::RDS::DBSnapshot", "snapshot"),
        ("dBClusterIdentifier", "AWS::RDS::DBCluster", "cluster"),
        ("dBClusterSnapshotIdentifier", "AWS::RDS::DBClusterSnapshot", "cluster-snapshot"),
    ):
        v = _s(req.get(key))
        if not v:
            continue
        if v.startswith("arn:"):
            ctx.add(typ, v.rsplit(":", 1)[-1], v)
        else:
            ctx.add(typ, v, ctx.arn("rds", f"{seg}:{v}"))


def _lambda(ctx: _Ctx, req: dict) -> None:
    v = _s(req.get("functionName"))
    if not v:
        return
    if v.startswith("arn:"):
        parts = v.split(":")
        if len(parts) >= 7:
            name = parts[6]
            ctx.add("AWS::Lambda::Function", name, ":".join(parts[:7]))
        return
    if ":" in v:  # partial ARN "123456789012:function:name" or "name:qualifier"
        bits = v.split(":")
        name = bits[2] if len(bits) >= 3 and bits[1] == "function" else bits[0]
    else:
        name = v
    ctx.add("AWS::Lambda::Function", name, ctx.arn("lambda", f"function:{name}"))


def _kms(ctx: _Ctx, req: dict, resp: dict) -> None:
    candidates = [req.get("keyId")]
    meta = resp.get("keyMetadata")
    if isinstance(meta, dict):
        candidates.append(meta.get("arn") or meta.get("keyId"))
    for v in candidates:
        v = _s(v)
        if not v:
            continue
        if v.startswith("arn:"):
            res = _resource_from_arn(v)
            if res:
                ctx.found.append(res)
        elif v.startswith("alias/"):
            ctx.add("AWS::KMS::Alias", v, ctx.arn("kms", v))
        else:
            ctx.add("AWS::KMS::Key", v, ctx.arn("kms", f"key/{v}"))


def _secretsmanager(ctx: _Ctx, req: dict, resp: dict) -> None:
    for v in (req.get("secretId"), resp.get("aRN"), resp.get("arn")):
        v = _s(v)
        if not v:
            continue
        if v.startswith("arn:"):
            ctx.add("AWS::SecretsManager::Secret", v.split(":", 6)[-1], v)
        else:  # a name: the ARN carries a random suffix we cannot know
            ctx.add("AWS::SecretsManager::Secret", v, None)


def _ssm(ctx: _Ctx, event_name: str, req: dict) -> None:
    if "Parameter" in event_name:
        typ, seg = "AWS::SSM::Parameter", "parameter"
    elif "Document" in event_name:
        typ, seg = "AWS::SSM::Document", "document"
    else:
        return
    names = list(_strings(req.get("name"))) + list(_strings(req.get("names")))
    for n in names:
        if n.startswith("arn:"):
            res = _resource_from_arn(n, typ)
            if res:
                ctx.found.append(res)
            continue
        path = n if n.startswith("/") else "/" + n
        ctx.add(typ, n, ctx.arn("ssm", f"{seg}{path}" if seg == "parameter" else f"{seg}/{n}"))


def _own_resources(ctx: _Ctx, record: dict) -> None:
    for item in record.get("resources") or ():
        if not isinstance(item, dict):
            continue
        arn = _s(item.get("ARN")) or _s(item.get("arn"))
        declared = _s(item.get("type"))
        if arn:
            res = _resource_from_arn(arn, declared)
            if res:
                ctx.found.append(res)
        elif declared and _s(item.get("ARNPrefix")):
            ctx.add(declared, item["ARNPrefix"], None)


def _dedupe(found: list[Resource]) -> list[Resource]:
    best: dict[tuple[str, str], Resource] = {}
    for r in found:
        key = (r.type, r.id)
        if key not in best or (best[key].arn is None and r.arn):
            best[key] = r
    # an id seen also under its own ARN as id (e.g. secretId=arn) collapses above;
    # drop plain entries whose arn duplicates another entry's arn
    by_arn: dict[str, Resource] = {}
    out = []
    for r in sorted(best.values(), key=lambda r: (r.type, r.id, r.arn or "")):
        if r.arn and r.arn in by_arn:
            continue
        if r.arn:
            by_arn[r.arn] = r
        out.append(r)
    return out


def resources_of(record: dict) -> list[Resource]:
    """Resources referenced by a CloudTrail record, deduplicated, sorted by (type, id)."""
    ctx = _Ctx(record)
    req = record.get("requestParameters")
    req = req if isinstance(req, dict) else {}
    resp = record.get("responseElements")
    resp = resp if isinstance(resp, dict) else {}
    source = (_s(record.get("eventSource")) or "").split(".", 1)[0]
    event_name = _s(record.get("eventName")) or ""

    _ec2(ctx, (req, resp))
    if source == "s3":
        _s3(ctx, req)
    elif source == "iam":
        _iam(ctx, req, resp)
    elif source == "cloudtrail":
        _cloudtrail(ctx, req, resp)
    elif source == "config":
        _config(ctx, req)
    elif source == "cloudformation":
        _cloudformation(ctx, req, resp)
    elif source == "rds":
        _rds(ctx, req)
    elif source == "lambda":
        _lambda(ctx, req)
    elif source == "kms":
        _kms(ctx, req, resp)
    elif source == "secretsmanager":
        _secretsmanager(ctx, req, resp)
    elif source == "ssm":
        _ssm(ctx, event_name, req)
    _own_resources(ctx, record)
    return _dedupe(ctx.found)
