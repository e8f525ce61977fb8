from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_report_top5_on_row"),
    ]

    operations = [
        migrations.AddField(
            model_name="linkflowreport",
            name="poll_deliveries",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="unfinished polls in a row"
            ),
        ),
    ]
