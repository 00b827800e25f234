#!/usr/bin/env bash
# Quickstart: the whole job on the local cloud, no Azure subscription needed.
# Installs aigw (uv, locked), the LiteLLM environment, starts the local cloud (ARM, Key Vault,
# Azure OpenAI emulators on 127.0.0.1), deploys dev, smoke-tests the real LiteLLM gateway,
# shows that a second plan is empty, and prints the outputs.
set -euo pipefail
cd "$(dirname "$0")"

if command -v uv >/dev/null 2>&1; then
    UV=(uv)
else
    python3 -m pip install --quiet "uv==0.13.8"
    UV=(python3 -m uv)
fi
export UV_PROJECT_ENVIRONMENT="$PWD/.venv"
"${UV[@]}" sync --locked --quiet
aigw=.venv/bin/aigw

# Throwaway keys for the local cloud only (never written to disk); bring your own to reuse them.
AIGW_GATEWAY_KEY="${AIGW_GATEWAY_KEY:-sk-local-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
AIGW_AZURE_OPENAI_API_KEY="${AIGW_AZURE_OPENAI_API_KEY:-local-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}"
export AIGW_GATEWAY_KEY AIGW_AZURE_OPENAI_API_KEY

$aigw validate --env dev
$aigw litellm ensure --env dev
$aigw deploy --env dev --cloud local --yes
$aigw plan --env dev --cloud local --detailed-exitcode
$aigw status --env dev --cloud local

cat <<'MSG'

The gateway runs on the local cloud. Next:
  eval "$(.venv/bin/aigw localcloud env)"   # trust the local cloud's CA (curl, Python, OpenAI SDK)
  .venv/bin/aigw client-config --env dev --cloud local --client codex   # point a client at it
  .venv/bin/aigw destroy --env dev --cloud local --yes                  # remove it
  .venv/bin/aigw localcloud stop                                        # stop the local cloud
The gateway key was generated for this run and lives only in the local Key Vault
(`aigw smoke-test --env dev --cloud local` reads it from there); export AIGW_GATEWAY_KEY
before running this script to choose your own.
MSG
