from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog.generation import catalog_changed
        from catalog.models import Brand, Group, Product, ProductGroup, Variant

        # Saves and deletes of single rows (admin, services) start a new listing generation.
        for model in (Group, Product, ProductGroup, Brand, Variant):
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_save_{model.__name__}")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog_changed_delete_{model.__name__}")
