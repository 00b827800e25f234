#!/usr/bin/env bash
# Quickstart: the whole job on the local cloud, no Azure subscription needed.
# Installs aigw (uv, locked), the LiteLLM environment, starts the local cloud (ARM, Key Vault,
# Azure OpenAI emulators on 127.0.0.1), deploys dev, smoke-tests the real LiteLLM gateway,
# shows that a second plan is empty, and prints the outputs.
set -euo pipefail
cd "$(dirname "$0")"

# uv: on PATH, or in python3, or bootstrapped into .uv-bootstrap/ (never pip into the system).
. .ci/uv-bootstrap.sh
aigw_bootstrap_uv
export UV_PROJECT_ENVIRONMENT="$PWD/.venv"
"${UV[@]}" sync --locked --quiet
aigw=.venv/bin/aigw

# Throwaway keys for the local cloud only (never written to disk); bring your own to reuse them.
AIGW_GATEWAY_KEY="${AIGW_GATEWAY_KEY:-sk-local-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
AIGW_AZURE_OPENAI_API_KEY="${AIGW_AZURE_OPENAI_API_KEY:-local-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}"
export AIGW_GATEWAY_KEY AIGW_AZURE_OPENAI_API_KEY

$aigw validate --env dev
$aigw litellm ensure --env dev
# The Azure OpenAI account and deployments your Azure would already have: the local cloud's
# own world (README, "The local cloud's world"), never taken from environments/*.yaml.
$aigw localcloud seed localcloud/world.yaml
$aigw deploy --env dev --cloud local --yes
$aigw plan --env dev --cloud local --detailed-exitcode
$aigw status --env dev --cloud local

# Where the gateway answers and the local cloud's CA (its HTTPS certificates are signed by it).
url=$($aigw status --env dev --cloud local -o json |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["outputs"]["gateway_url"])')
ca=$($aigw localcloud status -o json |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["ca_file"])')

cat <<MSG

The gateway runs on the local cloud at $url. Use it from any shell in $PWD:
  eval "\$(.venv/bin/aigw localcloud env)"   # trust the local CA in this shell (curl, Python, OpenAI SDK)
  .venv/bin/aigw gateway-key show --env dev --cloud local            # the key's fingerprint (--reveal: the key)
  curl --cacert $ca \\
    -H "Authorization: Bearer \$(.venv/bin/aigw gateway-key show --env dev --cloud local --reveal)" \\
    $url/v1/models
  .venv/bin/aigw client-config --env dev --cloud local --client codex   # a client's settings
  .venv/bin/aigw destroy --env dev --cloud local --yes                  # remove it
  .venv/bin/aigw localcloud stop                                        # stop the local cloud
The gateway key was generated for this run and lives only in the local Key Vault; export
AIGW_GATEWAY_KEY before running this script to choose your own.
MSG
