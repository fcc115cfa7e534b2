"""`python -m llmops.engines.grpo CONFIG.yaml`: one GRPO run, as the runner starts it and as a user can by hand."""

from __future__ import annotations

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
