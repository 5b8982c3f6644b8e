"""`python -m bot` is the `modeldesk` command."""

from bot.cli import main

raise SystemExit(main())
