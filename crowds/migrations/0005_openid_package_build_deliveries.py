from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crowds", "0004_instance_poll_deliveries"),
    ]

    operations = [
        migrations.AddField(
            model_name="openidpackage",
            name="build_deliveries",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="unfinished build slices in a row"
            ),
        ),
    ]
