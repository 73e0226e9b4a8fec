from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Supervision")

    def ready(self):
        from django.db.models.signals import post_save

        from suggestions.models import Suggestion

        from . import similarity

        post_save.connect(similarity.on_suggestion_saved, sender=Suggestion,
                          dispatch_uid="supervision.similarity.on_suggestion_saved")
