"""`python -m tui` behaves exactly like the `agentdeck` command."""

from tui.cli import main

raise SystemExit(main())
