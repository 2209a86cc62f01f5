"""`manage.py demo_data`: a shop with a catalog, orders and an admin login, for trying Obmen out."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.demo.loader import DemoImportFailed, load_demo, shop_is_empty


class Command(BaseCommand):
    help = (
        "Loads a demo catalog through the 1C importer (CommerceML files with pictures, as 1C sends them), "
        "places a few orders and creates the superuser 'admin' with a random password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=3000, help="Number of products (default 3000).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same catalog (default 1).")
        parser.add_argument("--orders", type=int, default=10, help="Number of demo orders (default 10).")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing when the catalog already has products.")

    def handle(self, *args, products, seed, orders, if_empty, **options):
        if products < 1:
            raise CommandError("--products must be at least 1.")
        if if_empty and not shop_is_empty():
            self.stdout.write("The catalog already has products: demo data not loaded.")
            self._addresses(password=None, created=False)
            return
        self.stdout.write(f"Writing a demo catalog of {products} products as 1C would send it, then importing it…")
        try:
            result = load_demo(products=products, seed=seed, orders=orders)
        except DemoImportFailed as error:
            raise CommandError(f"The importer refused the demo catalog:\n{error}") from error
        for line in result.import_lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {result.products} products ({result.offers} offers, {result.pictures} distinct pictures) "
            f"and {result.orders} orders in {result.seconds:.1f} s."
        ))
        self._addresses(password=result.admin_password, created=True)

    def _addresses(self, *, password, created):
        base = settings.SITE_URL.rstrip("/")
        self.stdout.write("")
        self.stdout.write(f"  Shop:      {base}/")
        self.stdout.write(f"  Admin:     {base}/admin/")
        self.stdout.write(f"  Exchange:  {base}/exchange   (the address to give 1C)")
        if password:
            self.stdout.write(self.style.WARNING(
                f"  Admin login: admin   password: {password}   (shown only now; change it in the admin)"
            ))
        elif created:
            self.stdout.write("  Admin login: the existing user 'admin' was kept (its password is unchanged).")
        self.stdout.write("")
