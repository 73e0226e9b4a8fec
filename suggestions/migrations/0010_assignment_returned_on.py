"""The day each assignment was taken back (return approved), so that a report as of an earlier day
still counts its department.

Filled for the assignments returned before this migration from their RETURN_APPROVED timeline event
(its local date, as the timeline shows it).
"""
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import TruncDate


def fill_from_the_timeline(apps, schema_editor):
    Assignment = apps.get_model("suggestions", "Assignment")
    Event = apps.get_model("suggestions", "Event")
    approved = (Event.objects.filter(assignment=OuterRef("pk"), kind="return_approved").order_by("-at", "-pk")
                .annotate(day=TruncDate("at")).values("day")[:1])
    Assignment.objects.filter(state="returned", returned_on__isnull=True).update(returned_on=Subquery(approved))


class Migration(migrations.Migration):

    dependencies = [
        ('suggestions', '0009_suggestion_withdrawn_on'),
    ]

    operations = [
        migrations.AddField(
            model_name='assignment',
            name='returned_on',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='returned on'),
        ),
        migrations.RunPython(fill_from_the_timeline, migrations.RunPython.noop),
    ]
