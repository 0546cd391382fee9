"""`python -m bot.telegram`: the polling runner (bot/telegram/runner.py)."""

import sys

from bot.telegram.runner import main

sys.exit(main())
