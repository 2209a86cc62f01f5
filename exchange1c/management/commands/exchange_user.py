"""Create or update the user 1C logs in as, and name it in the exchange settings."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exchange1c.models import ExchangeSettings


class Command(BaseCommand):
    help = ("Create or update the 1C exchange user: a hashed password, the permission "
            "exchange1c.exchange_with_1c, not staff unless --staff; names it as setting 11a.")

    def add_arguments(self, parser):
        parser.add_argument("login")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
        parser.add_argument("--staff", action="store_true", help="also let the user into the admin")
        parser.add_argument("--email", default="")

    def handle(self, *args, login, password_stdin, staff, email, **options):
        password = self._password(password_stdin)
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: login}).first()
        try:
            validate_password(password, user=user or User(**{User.USERNAME_FIELD: login}))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        with transaction.atomic():
            created = user is None
            if created:
                user = User(**{User.USERNAME_FIELD: login}, email=email, is_staff=staff)
            elif staff:
                user.is_staff = True
            if email:
                user.email = email
            user.is_active = True
            user.set_password(password)
            user.save()
            user.user_permissions.add(Permission.objects.get(content_type__app_label="exchange1c",
                                                             codename="exchange_with_1c"))
            cfg = ExchangeSettings.get_solo()
            cfg.exchange_user = user
            cfg.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} exchange user {login!r}; it is the 1C login in the settings."))

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The passwords differ.")
        else:
            raise CommandError("Give the password with --password-stdin (or run in a terminal).")
        if not password:
            raise CommandError("An empty password is not allowed.")
        return password
