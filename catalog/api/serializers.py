from rest_framework import serializers

from catalog.models import Constraint, ConstraintType, Guidance, Portfolio, Product, ProductVersion
from portal.models import Team


class PortfolioSerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Team.objects.all(), required=False)
    products = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Portfolio
        fields = ["id", "name", "description", "owner", "support_contact", "teams", "products", "created", "updated"]
        read_only_fields = ["created", "updated"]


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductVersion
        fields = ["id", "name", "guidance"]


class ProductSerializer(serializers.ModelSerializer):
    portfolio = serializers.SerializerMethodField(help_text="The first portfolio (visible to the caller) it is in.")
    portfolios = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    versions = VersionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "owner", "support_email", "support_url", "support_description",
                  "portfolio", "portfolios", "versions"]

    def get_portfolio(self, product: Product) -> int | None:
        portfolios = list(product.portfolios.all())
        return portfolios[0].pk if portfolios else None


class ProductWriteSerializer(serializers.ModelSerializer):
    portfolio = serializers.PrimaryKeyRelatedField(queryset=Portfolio.objects.all(), write_only=True, required=False)
    portfolios = serializers.PrimaryKeyRelatedField(queryset=Portfolio.objects.all(), many=True, required=False)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "owner", "support_email", "support_url", "support_description",
                  "portfolio", "portfolios"]

    def validate(self, attrs: dict) -> dict:
        portfolios = list(attrs.pop("portfolios", []))
        if attrs.get("portfolio"):
            portfolios.append(attrs.pop("portfolio"))
        if portfolios or self.instance is None:
            if not portfolios:
                raise serializers.ValidationError({"portfolio": "Put the product in a portfolio."})
            attrs["portfolios"] = portfolios
        return attrs


class VersionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    template = serializers.CharField(trim_whitespace=False, help_text="The template's text, YAML or JSON.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    guidance = serializers.ChoiceField(choices=Guidance.choices, default=Guidance.DEFAULT)


class VersionSerializer(serializers.ModelSerializer):
    parameters = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    content_hash = serializers.CharField(source="document.content_hash", read_only=True)

    class Meta:
        model = ProductVersion
        fields = ["id", "product", "name", "description", "guidance", "content_hash", "parameters", "warnings",
                  "created"]
        read_only_fields = ["product", "name", "description", "created"]

    def get_parameters(self, version: ProductVersion) -> list[dict]:
        return version.parameters

    def get_warnings(self, version: ProductVersion) -> list[dict]:
        return version.document.analysis.get("warnings", [])


class ConstraintSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=ConstraintType.choices)
    definition = serializers.JSONField()
    portfolio = serializers.PrimaryKeyRelatedField(queryset=Portfolio.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Constraint
        fields = ["id", "product", "portfolio", "type", "definition", "description", "created"]
        read_only_fields = ["product", "created"]


class LaunchFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField(allow_null=True)
    default = serializers.CharField(allow_null=True)
    allowed_values = serializers.ListField(child=serializers.CharField())
    allowed_pattern = serializers.CharField(allow_null=True)
    min_length = serializers.IntegerField(allow_null=True)
    max_length = serializers.IntegerField(allow_null=True)
    min_value = serializers.FloatField(allow_null=True)
    max_value = serializers.FloatField(allow_null=True)
    no_echo = serializers.BooleanField()
    constraint_description = serializers.CharField(allow_null=True)
    locked = serializers.BooleanField()
    value = serializers.CharField(allow_blank=True)
    rules = serializers.ListField(child=serializers.CharField())


class LaunchTagSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField()
    locked = serializers.BooleanField()


class LaunchTargetAccountSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    name = serializers.CharField()
    team = serializers.CharField(help_text="The team (slug) a launch into this account is for.")
    regions = serializers.ListField(child=serializers.CharField(), help_text="Where it may launch, default first.")
    region = serializers.CharField(help_text="The default region.")


class LaunchTargetsSerializer(serializers.Serializer):
    accounts = LaunchTargetAccountSerializer(many=True, help_text="The team's accounts the product may be launched "
                                                                  "into (TARGET constraints narrow them).")
    account_id = serializers.CharField(allow_null=True, help_text="The default account.")
    region = serializers.CharField(allow_null=True, help_text="The default region.")
    account_pinned = serializers.BooleanField(help_text="A TARGET constraint leaves one account.")
    region_pinned = serializers.BooleanField(help_text="A TARGET constraint leaves one region (default account).")


class LaunchFormSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    version = serializers.IntegerField()
    version_name = serializers.CharField()
    guidance = serializers.CharField()
    parameters = LaunchFieldSerializer(many=True)
    tags = LaunchTagSerializer(many=True)
    launch_role_arn = serializers.CharField(allow_null=True)
    rules = serializers.ListField(child=serializers.DictField())
    targets = LaunchTargetsSerializer(allow_null=True, help_text="Where the caller's team may launch it (null for "
                                                                 "an admin's preview without a team).")


class CreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
