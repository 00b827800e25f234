"""Preflight of the upstream, in plan before any write: every model of the YAML has its
deployment on the Azure OpenAI account, a model that fits its kind, and capacity.

Read with azure-mgmt-cognitiveservices (resources.openai_account). One line per problem, naming
the model and the fix; exit 1 when Azure lacks something (a deployment, capacity), 2 when the
YAML contradicts what is deployed (kind, dimensions, api-version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aigw.azure.context import Ctx
from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelConfig, ModelKind
from aigw.errors import EXIT_BAD_INPUT, EXIT_FAILURE, AigwError

if TYPE_CHECKING:
    from aigw.resources.openai_account import Account

# Embedding models and their vector sizes (learn.microsoft.com/azure/ai-foundry/openai/concepts/
# models#embeddings).
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}
# Model families served by the Responses API (learn.microsoft.com/azure/ai-foundry/openai/
# how-to/responses#model-support), and the first dated api-version that has it.
RESPONSES_FAMILIES = ("gpt-5", "gpt-4.1", "gpt-4o", "o1", "o3", "o4", "codex-mini", "computer-use")
FIRST_RESPONSES_API_VERSION = "2025-03-01-preview"


class PreflightError(AigwError):
    """Several problems, one line each."""

    def __init__(self, lines: list[str], exit_code: int) -> None:
        super().__init__(lines[0])
        self.lines = lines
        self.exit_code = exit_code

    def one_line(self) -> str:
        return "\n".join(" ".join(line.split()) for line in self.lines)


def model_problems(
    file: str, index: int, model: ModelConfig, deployment: dict[str, Any] | None, account: str
) -> list[tuple[int, str]]:
    """(exit code, line) for each problem of one model against its deployment's ARM body."""
    where = f"{file}: models[{index}] ({model.alias})"
    name = model.deployment_name
    if deployment is None:
        return [
            (
                EXIT_FAILURE,
                f"{where}: account {account} has no deployment {name!r} (create it in the "
                f"Foundry portal or with az cognitiveservices account deployment create, or set "
                f"models[{index}].deployment to an existing one)",
            )
        ]
    found: list[tuple[int, str]] = []
    props = deployment.get("properties") or {}
    m = props.get("model") or {}
    mname, mversion = str(m.get("name") or ""), str(m.get("version") or "")
    is_embedding = mname.startswith("text-embedding")
    shown = f"{mname} {mversion}".strip()
    if model.kind is ModelKind.embeddings:
        if not is_embedding:
            found.append(
                (
                    EXIT_BAD_INPUT,
                    f"{where}: kind embeddings, but deployment {name!r} serves {shown}, not an "
                    "embedding model (fix models[{i}].kind or .deployment)".replace(
                        "{i}", str(index)
                    ),
                )
            )
        elif EMBEDDING_DIMENSIONS.get(mname) not in (None, model.dimensions):
            want = EMBEDDING_DIMENSIONS[mname]
            found.append(
                (
                    EXIT_BAD_INPUT,
                    f"{where}: dimensions {model.dimensions}, but {mname} returns {want} (set "
                    f"models[{index}].dimensions: {want})",
                )
            )
    else:
        if is_embedding:
            found.append(
                (
                    EXIT_BAD_INPUT,
                    f"{where}: kind {model.kind.value}, but deployment {name!r} serves the "
                    f"embedding model {shown} (set models[{index}].kind: embeddings, or point "
                    "deployment at a chat or codex model)",
                )
            )
        elif model.kind is ModelKind.responses and not mname.startswith(RESPONSES_FAMILIES):
            found.append(
                (
                    EXIT_BAD_INPUT,
                    f"{where}: kind responses, but {shown} does not serve the Responses API "
                    f"(use kind: chat, or a model such as gpt-5-codex)",
                )
            )
        version = model.api_version
        if (
            model.kind is ModelKind.responses
            and version[:1].isdigit()
            and version < FIRST_RESPONSES_API_VERSION
        ):
            found.append(
                (
                    EXIT_BAD_INPUT,
                    f"{where}: api_version {version} has no Responses API (set "
                    f"models[{index}].api_version: '{FIRST_RESPONSES_API_VERSION}' or later)",
                )
            )
    capacity = (deployment.get("sku") or {}).get("capacity")
    if capacity is not None and int(capacity) <= 0:
        found.append(
            (
                EXIT_FAILURE,
                f"{where}: deployment {name!r} has no capacity (sku.capacity {capacity}: raise "
                "its tokens-per-minute quota)",
            )
        )
    return found


@dataclass(frozen=True)
class Upstream:
    """What read() found: the account and its deployments; or, when a key-mode account could
    not be read, why (`unread`)."""

    account: Account | None = None
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    unread: str = ""


def read(ctx: Ctx, config: EnvConfig) -> Upstream:
    """The preflight's reads (the account, then its deployments): plan runs them beside the
    observation's, so they add no round trip of their own."""
    from aigw.resources import openai_account

    upstream = config.azure_openai
    try:
        account = ctx.retry(
            lambda: openai_account.find(ctx, upstream.endpoint, upstream.resource_id),
            key="azure_openai",
            what="find the Azure OpenAI account",
        )
    except Exception as err:
        if upstream.auth == "identity":
            raise  # the role needs the account: its error says how to name it
        # key mode never needed to read the account (it may be in a subscription the deployer
        # cannot read): the scaffold's way keeps working, unchecked.
        return Upstream(unread=str(getattr(err, "message", err)))
    deployments = ctx.retry(
        lambda: openai_account.deployments(ctx, account),
        key="azure_openai",
        what=f"list the deployments of {account.name}",
    )
    return Upstream(account, deployments)


def check(ctx: Ctx, config: EnvConfig, file: str, upstream: Upstream) -> None:
    """Raise PreflightError with every problem of what read() found (nothing is written
    before this passes); no read of its own."""
    account = upstream.account
    if account is None:
        ctx.report("azure_openai", f"deployments not checked: {upstream.unread}")
        return
    found: list[tuple[int, str]] = []
    for i, model in enumerate(config.models):
        dep = upstream.deployments.get(model.deployment_name)
        found += model_problems(file, i, model, dep, account.name)
    if config.azure_openai.auth == "key" and account.disable_local_auth:
        found.append(
            (
                EXIT_BAD_INPUT,
                f"{file}: azure_openai.auth: key, but account {account.name} has key "
                "authentication turned off (disableLocalAuth) (set azure_openai.auth: identity)",
            )
        )
    if found:
        code = EXIT_FAILURE if any(c == EXIT_FAILURE for c, _ in found) else EXIT_BAD_INPUT
        raise PreflightError([line for _, line in found], code)
