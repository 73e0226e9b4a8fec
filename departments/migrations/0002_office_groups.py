"""The office roles are groups: the coordinator (区政府办公室) and the liaison office (代表工委)."""
from django.db import migrations


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ("coordinator", "liaison"):
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("departments", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
