"""The account kit (deploy/aws/*.yaml) and the commands that deploy it, with this portal's parameters filled in.

Three ways, as the README's "Connect your AWS organisation" tells: the console's quick-create link (needs the
template at an HTTPS address in S3: AWS_KIT_TEMPLATE_URL), the CLI for one account, and a service-managed
StackSet for a whole organisation or OU. The ExternalId is not a secret (AWS: it guards against the confused
deputy, it does not authenticate), so admins see it here as they would in any posture tool's onboarding.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings

KIT_DIR = Path(settings.BASE_DIR) / "deploy" / "aws"
MEMBER = "guardrail-member-account"
MANAGEMENT = "guardrail-management-account"
KIT_FILES = {MEMBER: KIT_DIR / f"{MEMBER}.yaml", MANAGEMENT: KIT_DIR / f"{MANAGEMENT}.yaml"}
CAPABILITIES = "CAPABILITY_NAMED_IAM"
# The portal does not know the organisation's id before the kit lets it read AWS Organizations: the admin fills it in.
ORGANIZATION_ID_PLACEHOLDER = "o-yourorgid00"


def kit_file(name: str) -> str | None:
    """The template's text, or None for a name that is not one of the kit's."""
    path = KIT_FILES.get(name)
    return path.read_text() if path is not None and path.exists() else None


@dataclass(frozen=True)
class KitCommands:
    parameters: dict[str, str]
    management_parameters: dict[str, str]
    regions: list[str]
    quick_create_url: str  # "" without AWS_KIT_TEMPLATE_URL
    template_url: str
    cli: str
    management_cli: str
    stackset: str


def _overrides(parameters: dict[str, str]) -> str:
    return " ".join(shlex.quote(f"{k}={v}") for k, v in parameters.items())


def _param_list(parameters: dict[str, str]) -> str:
    return " ".join(shlex.quote(f"ParameterKey={k},ParameterValue={v}") for k, v in parameters.items())


def kit_commands(*, regions: list[str] | None = None, ou_ids: str = "") -> KitCommands:
    regions = list(regions or settings.AWS_REGIONS)
    home = regions[0] if regions else settings.AWS_DEFAULT_REGION
    params = {"PortalPrincipalArn": settings.AWS_PORTAL_PRINCIPAL_ARN, "ExternalId": settings.AWS_EXTERNAL_ID,
              "TrailMode": "Create", "ManagementAccountId": settings.AWS_MANAGEMENT_ACCOUNT_ID, "HomeRegion": home}
    principal = settings.AWS_PORTAL_PRINCIPAL_ARN.split(":", 5)[-1]
    kind, _, name = principal.partition("/")
    management = {"PortalPrincipalArn": settings.AWS_PORTAL_PRINCIPAL_ARN, "ExternalId": settings.AWS_EXTERNAL_ID,
                  "PortalUserName": name.rsplit("/", 1)[-1] if kind == "user" else "",
                  "PortalRoleName": name.rsplit("/", 1)[-1] if kind == "role" else "",
                  "OrganizationId": ORGANIZATION_ID_PLACEHOLDER}
    base = settings.AWS_KIT_TEMPLATE_URL.rstrip("/")
    template_url = f"{base}/{MEMBER}.yaml" if base else ""
    quick = ""
    if template_url:
        query = urlencode({"templateURL": template_url, "stackName": MEMBER,
                           **{f"param_{k}": v for k, v in params.items()}}, quote_via=quote)
        quick = f"https://{home}.console.aws.amazon.com/cloudformation/home?region={home}#/stacks/quickcreate?{query}"
    cli = (f"aws cloudformation deploy --region {home} --stack-name {MEMBER} "
           f"--template-file deploy/aws/{MEMBER}.yaml --capabilities {CAPABILITIES} "
           f"--parameter-overrides {_overrides(params)}")
    management_cli = (f"aws cloudformation deploy --region {home} --stack-name {MANAGEMENT} "
                      f"--template-file deploy/aws/{MANAGEMENT}.yaml --capabilities {CAPABILITIES} "
                      f"--parameter-overrides {_overrides(management)}")
    source = f"--template-url {template_url}" if template_url else f"--template-body file://deploy/aws/{MEMBER}.yaml"
    stackset = "\n".join([
        f"aws cloudformation create-stack-set --region {home} --stack-set-name {MEMBER} {source} "
        f"--capabilities {CAPABILITIES} --permission-model SERVICE_MANAGED "
        f"--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false --parameters {_param_list(params)}",
        f"aws cloudformation create-stack-instances --region {home} --stack-set-name {MEMBER} "
        # every region: the forwarding rule of the real-time path in each (the rest only in the home region)
        f"--deployment-targets OrganizationalUnitIds={ou_ids or 'r-xxxx'} --regions {' '.join(regions) or home}",
    ])
    return KitCommands(parameters=params, management_parameters=management, regions=regions,
                       quick_create_url=quick, template_url=template_url, cli=cli, management_cli=management_cli,
                       stackset=stackset)
