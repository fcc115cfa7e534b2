"""`python -m llmops …`: the command-line face of the studio."""

import sys

from .cli.main import main

sys.exit(main())
