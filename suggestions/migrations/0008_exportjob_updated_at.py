from django.db import migrations, models
from django.utils import timezone


class Migration(migrations.Migration):
    dependencies = [
        ("suggestions", "0007_department_scope"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=timezone.now),
            preserve_default=False,
        ),
    ]
