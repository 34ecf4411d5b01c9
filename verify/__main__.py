"""`python -m verify --help`."""

from verify.cli import main

raise SystemExit(main())
