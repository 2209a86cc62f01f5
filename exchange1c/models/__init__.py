"""Exchange models: the settings singleton, 1C sessions, the log, import jobs, order exports."""

from exchange1c.models.jobs import *  # noqa: F403
from exchange1c.models.log import *  # noqa: F403
from exchange1c.models.orders import *  # noqa: F403
from exchange1c.models.session import *  # noqa: F403
from exchange1c.models.settings import *  # noqa: F403
