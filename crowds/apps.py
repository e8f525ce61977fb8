from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrowdsConfig(AppConfig):
    name = "crowds"
    verbose_name = _("Crowds")
