"""AWS::IAM::Role and AWS::IAM::ManagedPolicy: inline, managed and boundary policies, updated in place."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.parsing import CloudFormationModel
from moto.iam.exceptions import DeleteConflictException
from moto.iam.models import ManagedPolicy, Role

from sandbox.cfn_types.base import (
    Handle, JSONDict, as_dict, as_json, attachable, iam_backend, listed, tag_list,
)


# --- AWS::IAM::Role ---

class KitRole(Handle, CloudFormationModel):
    resource_type = "AWS::IAM::Role"
    known_properties = ("AssumeRolePolicyDocument", "Description", "ManagedPolicyArns", "MaxSessionDuration",
                        "Path", "PermissionsBoundary", "Policies", "RoleName", "Tags")
    attributes = ("Arn", "RoleId")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "RoleName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::Role"

    @property
    def role(self) -> Role:
        return self.target

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitRole:
        properties = cls._properties(cloudformation_json)
        iam = iam_backend(account_id, region_name)
        for arn in [*listed(properties.get("ManagedPolicyArns")), *listed(properties.get("PermissionsBoundary"))]:
            attachable(iam, arn, cls.resource_type)
        role = iam.create_role(
            role_name=resource_name,
            assume_role_policy_document=as_json(properties["AssumeRolePolicyDocument"]),
            path=properties.get("Path", "/"),
            permissions_boundary=properties.get("PermissionsBoundary") or None,
            description=properties.get("Description", ""),
            tags=tag_list(properties.get("Tags")),
            max_session_duration=str(properties.get("MaxSessionDuration", 3600)),
        )
        handle = cls(account_id, region_name, role.name, properties, role)
        handle._apply_policies({}, properties)
        return handle

    def _apply_policies(self, before: JSONDict, after: JSONDict) -> None:
        iam = iam_backend(self.account_id, self.region_name)
        name = self.role.name
        inline_before = {p["PolicyName"] for p in listed(before.get("Policies"))}
        inline_after = {p["PolicyName"]: as_json(p["PolicyDocument"]) for p in listed(after.get("Policies"))}
        for policy_name in inline_before - set(inline_after):
            if policy_name in self.role.policies:
                iam.delete_role_policy(name, policy_name)
        for policy_name, document in inline_after.items():
            iam.put_role_policy(name, policy_name, document)
        managed_before = set(listed(before.get("ManagedPolicyArns")))
        managed_after = listed(after.get("ManagedPolicyArns"))
        for arn in managed_before - set(managed_after):
            if arn in self.role.managed_policies:
                iam.detach_role_policy(arn, name)
        for arn in managed_after:
            if arn not in self.role.managed_policies:
                attachable(iam, arn, self.resource_type)
                iam.attach_role_policy(arn, name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitRole, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitRole:
        properties = cls._properties(cloudformation_json)
        before = original_resource.properties
        if (properties.get("RoleName", original_resource.role.name) != original_resource.role.name
                or properties.get("Path", "/") != before.get("Path", "/")):
            name = properties.get("RoleName", new_resource_name)
            return cls._replace(original_resource, name, cloudformation_json, account_id, region_name)
        iam = iam_backend(account_id, region_name)
        role = original_resource.role
        iam.update_assume_role_policy(role.name, as_json(properties["AssumeRolePolicyDocument"]))
        role.description = properties.get("Description", "")
        role.max_session_duration = str(properties.get("MaxSessionDuration", 3600))
        role.tags = tag_list(properties.get("Tags"))
        boundary = properties.get("PermissionsBoundary")
        if boundary:
            attachable(iam, boundary, cls.resource_type)
            iam.put_role_permissions_boundary(role.name, boundary)
        elif role.permissions_boundary_arn:
            iam.delete_role_permissions_boundary(role.name)
        original_resource._apply_policies(before, properties)
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        iam = iam_backend(self.account_id, self.region_name)
        if self.role.id not in iam.roles:
            return
        self._apply_policies(self.properties, {})
        for profile in iam.instance_profiles.values():
            profile.delete_role(role_name=self.role.name)
        iam.delete_role(self.role.name)  # DeleteConflict while anything else is attached: the stack retries

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        iam = iam_backend(account_id, region_name)
        role = next((r for r in iam.roles.values() if r.name == resource_name), None)
        if role is not None:
            cls(account_id, region_name, role.name, {}, role)._remove()


# --- AWS::IAM::ManagedPolicy ---

class KitManagedPolicy(Handle, CloudFormationModel):
    resource_type = "AWS::IAM::ManagedPolicy"
    known_properties = ("Description", "Groups", "ManagedPolicyName", "Path", "PolicyDocument", "Roles", "Users")
    attributes = ("AttachmentCount", "CreateDate", "DefaultVersionId", "IsAttachable", "PolicyArn", "PolicyId",
                  "UpdateDate")
    _ATTACHMENTS = (("Roles", "role"), ("Users", "user"), ("Groups", "group"))

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""  # the generated name, unless ManagedPolicyName says otherwise

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::ManagedPolicy"

    @property
    def policy(self) -> ManagedPolicy:
        return self.target

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        policy = self.policy
        values = {"AttachmentCount": policy.attachment_count, "CreateDate": policy.create_date.isoformat(),
                  "DefaultVersionId": policy.default_version_id, "IsAttachable": True, "PolicyArn": policy.arn,
                  "PolicyId": policy.id, "UpdateDate": policy.update_date.isoformat()}
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str, **kwargs: Any) -> KitManagedPolicy:
        properties = cls._properties(cloudformation_json)
        policy = iam_backend(account_id, region_name).create_policy(
            description=properties.get("Description", ""),
            path=properties.get("Path", "/"),
            policy_document=as_json(properties["PolicyDocument"]),
            policy_name=properties.get("ManagedPolicyName", resource_name),
            tags=[],
        )
        handle = cls(account_id, region_name, policy.arn, properties, policy)
        handle._attach({}, properties)
        return handle

    def _attach(self, before: JSONDict, after: JSONDict) -> None:
        iam = iam_backend(self.account_id, self.region_name)
        arn = self.policy.arn
        for key, kind in self._ATTACHMENTS:
            getter = getattr(iam, f"get_{kind}")
            old, new = listed(before.get(key)), listed(after.get(key))
            for name in [n for n in old if n not in new]:
                try:
                    entity = getter(name)
                except Exception:  # already gone
                    continue
                if arn in entity.managed_policies:
                    getattr(iam, f"detach_{kind}_policy")(arn, name)
            for name in new:
                if arn not in getter(name).managed_policies:
                    getattr(iam, f"attach_{kind}_policy")(arn, name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: KitManagedPolicy, new_resource_name: str,
                                        cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> KitManagedPolicy:
        properties = cls._properties(cloudformation_json)
        before = original_resource.properties
        policy = original_resource.policy
        if (properties.get("ManagedPolicyName", policy.name) != policy.name
                or properties.get("Path", "/") != before.get("Path", "/")
                or properties.get("Description", "") != before.get("Description", "")):
            return cls._replace(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        document = as_json(properties["PolicyDocument"])
        if as_dict(document) != as_dict(as_json(before.get("PolicyDocument"))):
            iam = iam_backend(account_id, region_name)
            if len(policy.versions) >= 5:  # AWS CloudFormation deletes the oldest non-default version
                oldest = next(v for v in policy.versions if v.version_id != policy.default_version_id)
                iam.delete_policy_version(policy.arn, oldest.version_id)
            iam.create_policy_version(policy.arn, document, set_as_default=True)
        original_resource._attach(before, properties)
        original_resource.properties = properties
        return original_resource

    def _remove(self) -> None:
        iam = iam_backend(self.account_id, self.region_name)
        arn = self.policy.arn
        if arn not in iam.managed_policies:
            return
        self._attach(self.properties, {})
        bounded = [r.name for r in iam.roles.values() if r.permissions_boundary_arn == arn]
        bounded += [u.name for u in iam.users.values() if getattr(u, "permissions_boundary_arn", None) == arn]
        if self.policy.attachment_count > 0 or bounded:
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        for version in list(self.policy.versions):
            if version.version_id != self.policy.default_version_id:
                iam.delete_policy_version(arn, version.version_id)
        iam.delete_policy(arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: JSONDict, account_id: str,
                                        region_name: str) -> None:
        iam = iam_backend(account_id, region_name)
        policy = iam.managed_policies.get(resource_name)
        if policy is not None:
            cls(account_id, region_name, policy.arn, {}, policy)._remove()
