#!/usr/bin/env sh
# The deploy every CI example runs, in this order: check, then migrate (which, in a
# protected environment, takes a backup first and verifies afterwards), then a final check
# that the database matches its migrations. Any failing step stops the pipeline.
#
# Needs: `ferry` on PATH, a ferry.toml in the working directory, FERRY_ENV (e.g. prod) and
# whatever variables that environment's url names (e.g. DATABASE_URL).
set -eu
: "${FERRY_ENV:?set FERRY_ENV to the environment to deploy}"

echo "== check: integrity, history, risky statements, drift"
ferry check --env "$FERRY_ENV"

echo "== migrate: backup, apply, verify"
ferry migrate --env "$FERRY_ENV" --yes

echo "== verify"
ferry check --env "$FERRY_ENV"
ferry status --env "$FERRY_ENV"
