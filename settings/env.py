"""The one environ.Env() every settings module reads from.

Reading a `.env` file is opt-in (OBMEN_READ_DOT_ENV=1); variables set in the process
environment always win over the file.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

if env.bool("OBMEN_READ_DOT_ENV", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)
