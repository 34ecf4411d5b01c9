"""`python -m verify`: prove that a deployed stack's services answer as its outputs say.

Run it from the project directory after `pulumi up`. It reads the stack outputs
(`pulumi stack output --json --show-secrets`, or a file given with `--outputs`), runs one small
check per promise the outputs make (a MinIO user sees exactly its buckets, a PostgreSQL role logs
into its database, Trino answers on each catalog, ...), each with its own timeout and most of them
at the same time, and prints a table (or `--json`). The exit code is 0 only if every check passed.

Modules: `outputs` reads and interprets the outputs (no network), `checks` holds the checks and
the plan that picks them from the outputs, `runner` runs them concurrently under timeouts,
`report` renders the progress lines, the table and the JSON, `cli` is the command line.
The Pulumi program never imports this package, and this package imports from `components/`
only the service table (`components.platform.services`), which says which buckets each user may see.
"""
