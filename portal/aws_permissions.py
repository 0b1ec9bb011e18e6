"""What each of the portal's AWS roles may do, next to the AWS boundary (portal/aws.py).

The portal acts in an account through one role per purpose, all created by the account kit in deploy/aws/:

- ``reader`` (GuardrailPortal, AWS_PORTAL_ROLE_NAME, or an Account's own role_name): the recorder's
  describes, rules' reads, CloudTrail and flow-log ingestion (queue and bucket), SNS notifications.
- ``remediation`` (GuardrailRemediation, AWS_REMEDIATION_ROLE_NAME): the remediation actions, which read the
  resource (preview, verify) and change it.
- ``launch`` (GuardrailLaunch, AWS_LAUNCH_ROLE_NAME): catalog launches as CloudFormation stacks, capped by the
  permissions boundary GuardrailLaunchBoundary.
- ``organizations`` (GuardrailOrganizations, AWS_ORGANIZATIONS_ROLE_NAME, in the management account):
  the organisation's accounts, OUs and tags.

``operations`` are IAM action names: exactly what the portal's code calls for that purpose, plus the few that
AWS checks for a call the code makes without the code naming them (IMPLIED, each with its reason).
portal/tests/test_account_kit.py scans the code and the kit and fails when they disagree, in either direction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

__all__ = ["IMPLIED", "KIT_FILES", "PERMISSIONS", "PLANNED", "SIMULATION_CONTEXT", "STACK_RESOURCES", "RolePermissions",
           "role_name"]

MEMBER_KIT = "deploy/aws/guardrail-member-account.yaml"
MANAGEMENT_KIT = "deploy/aws/guardrail-management-account.yaml"
KIT_FILES = (MEMBER_KIT, MANAGEMENT_KIT)


@dataclass(frozen=True)
class RolePermissions:
    purpose: str  # "reader", "remediation", "launch", "organizations"
    role_setting: str  # the setting that names the role, "AWS_PORTAL_ROLE_NAME"
    kit: str  # the template that creates the role, a path from the repository's root
    operations: tuple[str, ...]  # IAM actions, "ec2:DescribeInstances"
    kit_role: str = ""  # the role's name in the kit (the setting's default)


# The reads every collector of the recorder makes (audit/config/collectors), shared by the reader and, for the
# types remediation acts on, the remediation role.
_COLLECTOR_READS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListTags",
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeConfigurationRecorders",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetLoginProfile",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:ListAccessKeys",
    "iam:ListAttachedRolePolicies",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListPolicies",
    "iam:ListPolicyTags",
    "iam:ListRolePolicies",
    "iam:ListRoles",
    "iam:ListUserPolicies",
    "rds:DescribeDBInstances",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:ListAllMyBuckets",
)

PERMISSIONS: dict[str, RolePermissions] = {
    "reader": RolePermissions("reader", "AWS_PORTAL_ROLE_NAME", MEMBER_KIT, tuple(sorted({
        *_COLLECTOR_READS,
        # the CloudFormation stacks collector
        "cloudformation:DescribeStacks", "cloudformation:GetTemplateSummary", "cloudformation:ListStackResources",
        # AWS Config's own items (accounts whose config_source is AWS_CONFIG)
        "config:GetResourceConfigHistory", "config:ListDiscoveredResources", "config:SelectResourceConfig",
        # CloudTrail: LookupEvents accounts (in every region enabled there: ec2:DescribeRegions); the queue of new
        # files; the files (and flow-log files) in S3
        "cloudtrail:LookupEvents", "ec2:DescribeRegions", "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage",
        "s3:GetObject", "s3:ListBucket",
        # IAM principals' tags (triage), the credential report (rules)
        "iam:ListUsers", "iam:ListUserTags", "iam:ListRoleTags",
        "iam:GenerateCredentialReport", "iam:GetCredentialReport",
        # notifications to a remediation policy's SNS topics
        "sns:Publish",
        # the connection check (onboarding/checks.py): each role's policies simulated, the trail bucket's
        # notification to the queue
        "iam:SimulatePrincipalPolicy", "s3:GetBucketNotification", "sqs:GetQueueAttributes",
    })), "GuardrailPortal"),
    "remediation": RolePermissions("remediation", "AWS_REMEDIATION_ROLE_NAME", MEMBER_KIT, tuple(sorted({
        *_COLLECTOR_READS,
        "cloudtrail:AddTags", "cloudtrail:StartLogging", "config:StartConfigurationRecorder",
        "ec2:CreateFlowLogs", "ec2:CreateTags", "ec2:RevokeSecurityGroupIngress", "ec2:StopInstances",
        "iam:TagPolicy", "iam:TagRole", "iam:TagUser", "rds:AddTagsToResource",
        "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutEncryptionConfiguration",
        "logs:CreateLogDelivery", "iam:PassRole",
    })), "GuardrailRemediation"),
    "launch": RolePermissions("launch", "AWS_LAUNCH_ROLE_NAME", MEMBER_KIT, tuple(sorted({
        "cloudformation:CreateChangeSet", "cloudformation:CreateStack", "cloudformation:DeleteChangeSet",
        "cloudformation:DeleteStack", "cloudformation:DescribeChangeSet", "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:UpdateStack",
        # drift (catalog/drift.py); AWS reads each resource with the caller's permissions (StackResources reads)
        "cloudformation:DetectStackDrift", "cloudformation:DescribeStackDriftDetectionStatus",
        "cloudformation:DescribeStackResourceDrifts",
        # the template bucket guardrail-templates-<account>
        "s3:CreateBucket", "s3:GetObject", "s3:ListBucket", "s3:PutObject",
    })), "GuardrailLaunch"),
    "organizations": RolePermissions("organizations", "AWS_ORGANIZATIONS_ROLE_NAME", MANAGEMENT_KIT, tuple(sorted({
        "organizations:ListAccounts", "organizations:ListOrganizationalUnitsForParent", "organizations:ListParents",
        "organizations:ListRoots", "organizations:ListTagsForResource",
    })), "GuardrailOrganizations"),
}

# In `operations` though no code names them: AWS checks them for a call the code makes.
IMPLIED: dict[str, dict[str, str]] = {
    "remediation": {
        "logs:CreateLogDelivery": "ec2:CreateFlowLogs delivering to S3 creates a log delivery as the caller",
        "iam:PassRole": "ec2:CreateFlowLogs delivering to CloudWatch Logs passes its DeliverLogsPermissionArn role "
                        "(the kit allows it only to vpc-flow-logs.amazonaws.com)",
    },
    "launch": {
        "s3:GetObject": "CloudFormation reads a CreateStack/UpdateStack/CreateChangeSet TemplateURL with the "
                        "caller's credentials",
    },
}

# The request context AWS evaluates an operation in, where the kit's grant has a condition on it: the connection
# check simulates the operation with these (SimulatePrincipalPolicy's ContextEntries), as the code's call carries them.
SIMULATION_CONTEXT: dict[str, list[dict[str, object]]] = {
    "iam:PassRole": [{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["vpc-flow-logs.amazonaws.com"],
                      "ContextKeyType": "string"}],
}

# Granted by the kit for a feature of issue 18 whose code is still to come; not yet in `operations`. When the
# code calls one, the test asks to move it into `operations`.
PLANNED: dict[str, dict[str, str]] = {}

# What CloudFormation does with the launch role's credentials for the resource types the catalog's products
# create (without a service role it makes the stack's calls as the caller): for each type, every read its resource
# handlers declare (in the CloudFormation registry schema cfn-lint ships), and the writes of the properties the
# products use. Not offered: properties that need another service's writes or a role to pass (an instance profile,
# SSM associations, S3 Tables). The kit's StackResources statement grants exactly these, and GuardrailLaunchBoundary
# caps the role at `operations` plus these: a product with another resource type needs its actions here and in the
# kit (the test names what is missing).
_EC2_INSTANCE_READS = ("ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeInstanceAttribute",
                       "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeInstances", "ec2:DescribeKeyPairs",
                       "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates",
                       "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
                       "ec2:DescribeVolumes", "ec2:DescribeVpcs", "ssm:DescribeAssociation", "ssm:ListAssociations")
_S3_BUCKET_READS = ("s3:GetAccelerateConfiguration", "s3:GetAnalyticsConfiguration", "s3:GetBucketAbac",
                    "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLogging",
                    "s3:GetBucketMetadataTableConfiguration", "s3:GetBucketNotification",
                    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
                    "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning",
                    "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration", "s3:GetIntelligentTieringConfiguration",
                    "s3:GetInventoryConfiguration", "s3:GetLifecycleConfiguration", "s3:GetMetricsConfiguration",
                    "s3:GetReplicationConfiguration", "s3:ListAllMyBuckets", "s3:ListBucket", "s3:ListTagsForResource")
STACK_RESOURCES: dict[str, tuple[str, ...]] = {
    "AWS::EC2::Instance": (*_EC2_INSTANCE_READS, "ec2:RunInstances", "ec2:TerminateInstances", "ec2:StartInstances",
                           "ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateTags", "ec2:DeleteTags"),
    "AWS::EC2::SecurityGroup": ("ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup",
                                "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
                                "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
                                "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags", "ec2:DeleteTags"),
    "AWS::S3::Bucket": (*_S3_BUCKET_READS, "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging",
                        "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
                        "s3:PutBucketOwnershipControls"),
}


def role_name(purpose: str) -> str:
    """The role the portal assumes for `purpose` ("reader", "remediation", "launch", "organizations")."""
    try:
        return str(getattr(settings, PERMISSIONS[purpose].role_setting))
    except KeyError:
        raise ValueError(f"No AWS role purpose {purpose!r}: one of {', '.join(PERMISSIONS)}") from None
