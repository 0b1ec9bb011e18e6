"""The demo catalog of CONTRACT.md: a Payments portfolio with a LAMP web server product in two versions."""

from pathlib import Path

from django.db import transaction

from catalog import services
from catalog.models import Guidance, Portfolio, Product
from portal.models import Team

HERE = Path(__file__).parent
PORTFOLIO = "Payments web platform"
PRODUCT = "LAMP web server"

CONSTRAINTS = [
    ("LAUNCH", {"role_arn": "arn:aws:iam::111111111111:role/GuardrailLaunch"}, "Provision as the launch role"),
    ("TEMPLATE", {"Rules": {"SmallInstancesOnly": {"Assertions": [{
        "Assert": {"Fn::Contains": [["t3.micro", "t3.small", "t3.medium"], {"Ref": "InstanceType"}]},
        "AssertDescription": "Payments web servers are t3.micro, t3.small or t3.medium"}]}}},
     "Keep instances small"),
    ("PARAMETER", {"key": "Environment", "value": "production", "locked": True}, "Payments runs production"),
    ("PARAMETER", {"key": "InstanceType", "hidden_values": ["m5.4xlarge", "c5.9xlarge"]}, "No very large types"),
    ("TAG", {"key": "cost-center", "value": "CC-PAY-001", "locked": True}, "Spend tracking"),
    ("TAG", {"key": "project", "value": "checkout"}, "A default the developer may change"),
    ("NOTIFICATION", {"emails": ["payments-oncall@example.com"], "sns_topic_arns": []}, "On-call hears of launches"),
]


@transaction.atomic
def catalog_demo_seed() -> dict[str, int]:
    """Create the demo catalog once; running it again changes nothing."""
    if Product.objects.filter(name=PRODUCT).exists():
        return {"portfolios": 0, "products": 0}
    payments = Team.objects.get(slug="payments")
    portfolio = Portfolio.objects.filter(name=PORTFOLIO).first() or services.portfolio_create(
        user=None, name=PORTFOLIO, owner="Cloud platform team", support_contact="platform@example.com",
        description="Ready-made, compliant building blocks for the Payments team.", teams=[payments])
    product = services.product_create(
        user=None, name=PRODUCT, portfolios=[portfolio], owner="Cloud platform team",
        description="Apache, PHP and MariaDB on one EC2 instance, with a security group. For small web apps.",
        support_email="platform@example.com", support_url="https://wiki.example.com/guardrail/lamp",
        support_description="If a launch fails, its events show why; otherwise mail the platform team.")
    v1 = services.version_create(user=None, product=product, name="v1.0", template=(HERE / "lamp-v1.yaml").read_text(),
                                 description="First release.", guidance=Guidance.DEFAULT)
    services.version_create(user=None, product=product, name="v2.0", template=(HERE / "lamp-v2.yaml").read_text(),
                            description="Choose the PHP version; longer database passwords.")
    services.version_set_guidance(user=None, version=v1, guidance=Guidance.DEPRECATED)
    for type_, definition, description in CONSTRAINTS:
        services.constraint_create(user=None, product=product, type=type_, definition=definition,
                                   portfolio=portfolio, description=description)
    return {"portfolios": 1, "products": 1}
