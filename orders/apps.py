from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from orders.management import seed_reference_data

        # Like django.contrib.sites: the default statuses exist after every migrate, also
        # on a test database built without migrations.
        post_migrate.connect(seed_reference_data, sender=self)
