from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    verbose_name = _("Suggestions")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from departments.models import Department, Street

        from . import lookups  # noqa: F401  (registers the `in` lookup that ignores impossible ids)
        from .filters import reference_data_changed
        from .models import Category

        for model in (Department, Category, Street):
            for signal in (post_save, post_delete):
                signal.connect(reference_data_changed, sender=model, dispatch_uid=f"reference:{model.__name__}")
