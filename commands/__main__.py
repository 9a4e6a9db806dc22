"""``python -m results_online.commands``: the same as the ``results`` command."""

import sys

from results_online.commands.main import main

sys.exit(main())
