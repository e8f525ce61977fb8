from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crowds", "0003_crowd_create_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="crowdinstance",
            name="poll_deliveries",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="unfinished polls in a row"
            ),
        ),
    ]
