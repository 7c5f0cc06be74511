"""``python -m kefu_copilot.cli`` is the ``kefu`` command."""

import sys

from ._main import main

sys.exit(main())
