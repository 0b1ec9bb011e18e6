from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("remediation", "0004_dry_run_signatures"),
    ]

    operations = [
        migrations.AddField(
            model_name="actionrun",
            name="started",
            field=models.DateTimeField(blank=True, help_text="When a worker claimed it (RUNNING since).", null=True),
        ),
    ]
