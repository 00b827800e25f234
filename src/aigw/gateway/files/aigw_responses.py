"""aigw's Responses API state keeper inside the LiteLLM proxy: a conversation's state reaches
only the Azure OpenAI resource that can read it, and Azure's `store: false` rules hold for
clients that were written for OpenAI.

aigw ships this file next to `config.yaml` (like `aigw_usage.py`); LiteLLM 1.81.15 loads
`litellm_settings.callbacks: ["aigw_responses.responses_state"]` and calls a `CustomLogger`'s
deployment hooks once the router has chosen the deployment (`utils.py` `client` wrapper:
`async_pre_call_deployment_hook` before the call, `async_post_call_success_deployment_hook`
after it; `responses/streaming_iterator.py` `async_post_call_streaming_deployment_hook` for
each streamed event).

Two rules, both about what Azure accepts, not about the client:

1. `store: false` (what Codex sends unless it sees an Azure host, openai/codex PR #3528; behind
   a gateway it never does, #35739): Azure persists nothing, and an input item carrying an id
   is looked up and not found: 400 "Item with id 'rs_…' not found. Items are not persisted
   when `store` is set to false" (openai/codex #3292, #35739, with and without
   `encrypted_content`). Stateless replay works without ids (openai/codex #37275,
   vercel/ai #12952). So for `store: false` every input item loses its `id`, and a reasoning
   item that carries no `encrypted_content` (nothing to replay: Azure streams the content only
   in `response.completed`, earendil-works/pi #4256, and Codex keeps the item from
   `output_item.done`) is left out. Codex's own Azure mode (`store: true` and ids) is left
   alone: stored items resolve by id on the resource that stored them.
2. `encrypted_content` decrypts only on the resource that produced it (BerriAI/litellm
   #18094: `invalid_encrypted_content` on another one; openai/codex #3573). aigw's failover
   moves a call to another upstream on a 429, so every `encrypted_content` leaving the gateway
   is marked with the upstream that made it (`aigw1:<tag>:<content>`, opaque to the client,
   which only sends it back), and a reasoning item marked for another upstream is left out of
   the call (the turn succeeds without the earlier reasoning, which that resource could not
   read anyway). The tag is a hash of the upstream's endpoint: it names no host.
3. `previous_response_id` names a response stored on one resource; another resource answers
   400 previous_response_not_found (Azure's error, quoted in microsoft/agent-framework#6419).
   LiteLLM writes the id of the deployment that answered into the response ids it returns
   (responses/utils.py `_build_responses_api_response_id`) and its router's
   `responses_api_deployment_check` sends the next turn to that deployment, but a failover
   (an ordered model's fallback group, or a weighted group's retry) still takes the turn to
   another upstream. So a turn whose previous response was made by another upstream is not
   sent: it is a 429 with `retry-after` naming why (the upstream holding the conversation is
   throttled or out of rotation), and the client's retry reaches the holder once it answers.
   A previous response of a deployment this gateway no longer has (a rollout changed the
   config) is left to the upstream, which is the only one that can tell.

A line on stdout says how many items a call left out (`{"aigw_responses": 1, ...}`): counts
only, never content.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Iterable
from typing import Any

try:  # inside LiteLLM; aigw's own tests import the pure functions without LiteLLM installed
    from litellm.integrations.custom_logger import CustomLogger
except ImportError:  # pragma: no cover - exercised by aigw's tests

    class CustomLogger:  # type: ignore[no-redef]
        pass


MARK = "aigw1"
MARKER = "aigw_responses"


def upstream_tag(api_base: Any) -> str:
    """A short, stable name of one upstream endpoint (no host in it)."""
    text = str(api_base or "").strip().rstrip("/").lower()
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def mark(content: Any, tag: str) -> Any:
    """`encrypted_content` as it leaves the gateway: marked with the upstream that made it."""
    if not isinstance(content, str) or not content or content.startswith(MARK + ":"):
        return content
    return f"{MARK}:{tag}:{content}"


def unmark(content: str) -> tuple[str | None, str]:
    """(the upstream tag, the content as that upstream made it); (None, content) if unmarked."""
    if content.startswith(MARK + ":"):
        _, tag, rest = content.split(":", 2) if content.count(":") >= 2 else ("", "", content)
        if tag:
            return tag, rest
    return None, content


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def prepare_input(items: Any, store: Any, tag: str) -> tuple[Any, dict[str, int]]:
    """The input items one upstream can take, and what was done: `stripped` ids (store
    false), `dropped` reasoning items (no content to replay with store false, or another
    upstream's content), `unmarked` content of this upstream."""
    counts = {"stripped": 0, "dropped": 0, "unmarked": 0}
    if not isinstance(items, list):
        return items, counts
    stateless = store is False
    out: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            out.append(item)
            continue
        item = dict(item)
        if item.get("type") == "reasoning":
            content = item.get("encrypted_content")
            if isinstance(content, str) and content:
                made_by, raw = unmark(content)
                if made_by is not None and made_by != tag:
                    counts["dropped"] += 1
                    continue
                if made_by is not None:
                    item["encrypted_content"] = raw
                    counts["unmarked"] += 1
            elif stateless:
                counts["dropped"] += 1
                continue
        if stateless and "id" in item:
            del item["id"]
            counts["stripped"] += 1
        out.append(item)
    return out, counts


def _mark_items(items: Iterable[Any], tag: str) -> None:
    for item in items or ():
        if _get(item, "type") != "reasoning":
            continue
        content = _get(item, "encrypted_content")
        marked = mark(content, tag)
        if marked is content:
            continue
        if isinstance(item, dict):
            item["encrypted_content"] = marked
        else:
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                item.encrypted_content = marked


def mark_output(response: Any, tag: str) -> None:
    """Mark the reasoning items of a Responses object (a dict or LiteLLM's model) in place."""
    _mark_items(_get(response, "output") or (), tag)


def mark_event(event: Any, tag: str) -> None:
    """Mark the reasoning items a streamed Responses event carries, in place."""
    item = _get(event, "item")
    if item is not None:
        _mark_items([item], tag)
    response = _get(event, "response")
    if response is not None:
        mark_output(response, tag)


def _tag_of(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    base = data.get("api_base")
    if not base:
        params = data.get("litellm_params")
        base = params.get("api_base") if isinstance(params, dict) else None
    return upstream_tag(base) if base else None


def _say(counts: dict[str, int]) -> None:
    if counts["dropped"] or counts["stripped"]:
        line = {MARKER: 1, "stripped_ids": counts["stripped"], "dropped": counts["dropped"]}
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()


def _say_held() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.write(json.dumps({MARKER: 1, "held": 1}) + "\n")
        sys.stdout.flush()


def _is_responses(call_type: Any) -> bool:
    return "responses" in str(getattr(call_type, "value", call_type) or "")


def _router() -> Any:
    try:  # the proxy's router, as the proxy holds it now (a module global it sets at start)
        from litellm.proxy import proxy_server
    except ImportError:  # pragma: no cover - outside the proxy
        return None
    return getattr(proxy_server, "llm_router", None)


def holder_tag(previous_response_id: Any) -> str | None:
    """The upstream tag of the deployment that made a response LiteLLM returned; None when
    the id carries no deployment or names one this gateway does not have."""
    if not isinstance(previous_response_id, str) or not previous_response_id:
        return None
    try:
        from litellm.responses.utils import ResponsesAPIRequestUtils
    except ImportError:  # pragma: no cover - outside the proxy
        return None
    model_id = ResponsesAPIRequestUtils.get_model_id_from_response_id(previous_response_id)
    router = _router()
    if not model_id or router is None:
        return None
    deployment = router.get_deployment(model_id=model_id)
    if deployment is None:
        return None
    return _tag_of(deployment.model_dump() if hasattr(deployment, "model_dump") else deployment)


def hold_seconds() -> int:
    """How long a client should wait before its turn is tried again: the router's cooldown
    (what it waits before it tries a failed upstream again), between 1 and 60 s."""
    router = _router()
    seconds = getattr(router, "cooldown_time", None)
    if isinstance(seconds, (int, float)) and seconds > 0:
        return max(1, min(60, int(seconds + 0.999)))
    return 1


def held_elsewhere(model: Any, seconds: int) -> Exception:
    """The 429 a turn gets when the upstream holding its previous response is not the one the
    router chose; LiteLLM's proxy answers it with its status and `retry-after`."""
    import httpx
    import litellm

    message = (
        "the upstream that stored previous_response_id is throttled or out of rotation; "
        "no other upstream can read it (retry after the retry-after seconds, or start "
        "a new conversation without previous_response_id)"
    )
    response = httpx.Response(
        429,
        headers={"retry-after": str(seconds)},
        request=httpx.Request("POST", "http://aigw.invalid/v1/responses"),
    )
    return litellm.RateLimitError(message, llm_provider="azure", model=model, response=response)


class ResponsesState(CustomLogger):
    """The deployment hooks that apply the module's three rules."""

    async def async_pre_call_deployment_hook(
        self, kwargs: dict[str, Any], call_type: Any
    ) -> dict[str, Any] | None:
        if not _is_responses(call_type) or "input" not in kwargs:
            return None
        tag = _tag_of(kwargs)
        if tag is None:
            return None
        holder = holder_tag(kwargs.get("previous_response_id"))
        if holder is not None and holder != tag:
            _say_held()
            raise held_elsewhere(kwargs.get("model"), hold_seconds())
        items, counts = prepare_input(kwargs.get("input"), kwargs.get("store"), tag)
        _say(counts)
        return {**kwargs, "input": items}

    async def async_post_call_success_deployment_hook(
        self, request_data: dict[str, Any], response: Any, call_type: Any
    ) -> Any:
        tag = _tag_of(request_data)
        if tag is not None and _is_responses(call_type):
            mark_output(response, tag)
        return response

    async def async_post_call_streaming_deployment_hook(
        self, request_data: dict[str, Any], response_chunk: Any, call_type: Any
    ) -> Any:
        tag = _tag_of(request_data)
        if tag is not None:
            mark_event(response_chunk, tag)
        return response_chunk


responses_state = ResponsesState()
