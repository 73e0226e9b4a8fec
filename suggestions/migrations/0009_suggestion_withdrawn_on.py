"""The day each suggestion was withdrawn, so that a report as of an earlier day still counts it.

Filled for the suggestions withdrawn before this migration from their WITHDRAWN timeline event (its
local date, as the timeline shows it).
"""
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import TruncDate


def fill_from_the_timeline(apps, schema_editor):
    Suggestion = apps.get_model("suggestions", "Suggestion")
    Event = apps.get_model("suggestions", "Event")
    withdrawn = (Event.objects.filter(suggestion=OuterRef("pk"), kind="withdrawn").order_by("-at", "-pk")
                 .annotate(day=TruncDate("at")).values("day")[:1])
    Suggestion.objects.filter(state="withdrawn", withdrawn_on__isnull=True).update(withdrawn_on=Subquery(withdrawn))


class Migration(migrations.Migration):

    dependencies = [
        ('suggestions', '0008_exportjob_updated_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='suggestion',
            name='withdrawn_on',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='withdrawn on'),
        ),
        migrations.RunPython(fill_from_the_timeline, migrations.RunPython.noop),
    ]
