from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_writeback_refusals"),
    ]

    operations = [
        migrations.AddField(
            model_name="writebackjob",
            name="run_deliveries",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="unfinished runs in a row"
            ),
        ),
    ]
