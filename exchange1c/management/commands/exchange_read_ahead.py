"""The read-ahead reader: the importer starts it itself (exchange1c/importer/readahead.py).

    manage.py exchange_read_ahead --root <jobs root>/read-ahead --brand-key '' -- <file>...

Reads each file that nobody has claimed into staged frames and a summary in `--root`; opens
no database connection.
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from exchange1c.importer import readahead


class Command(BaseCommand):
    help = "Read uploaded CommerceML files ahead of their import (started by the importer)."
    requires_system_checks = []  # started at every package: checks would only delay the reading

    def add_arguments(self, parser):
        parser.add_argument("--root", type=Path, required=True)
        parser.add_argument("--brand-key", default="")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, root: Path, brand_key: str, files: list[Path], **options):
        readahead.read_files(root, brand_key, files)
