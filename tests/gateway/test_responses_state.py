"""aigw_responses.py, the pure part: Azure's store-false rules (no item ids, no reasoning
without content) and encrypted reasoning kept to the upstream that made it (issue 24). The
real LiteLLM and two Azure OpenAI emulators: tests/gateway/test_responses_failover.py."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

from helpers import REPO


def _module() -> ModuleType:
    path = REPO / "src" / "aigw" / "gateway" / "files" / "aigw_responses.py"
    spec = importlib.util.spec_from_file_location("aigw_responses_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


R = _module()
A, B = R.upstream_tag("https://a.openai.azure.com"), R.upstream_tag("https://b.openai.azure.com/")


def _codex_turn_two(reasoning_content: Any) -> list[dict[str, Any]]:
    """What Codex 0.169.0 sends on its second turn (tests/clients): every item with an id."""
    return [
        {"type": "message", "role": "user", "id": "msg_1", "content": "run it"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": reasoning_content},
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "exec_command",
            "arguments": "{}",
        },
        {"type": "function_call_output", "id": "fco_1", "call_id": "call_1", "output": "ok"},
    ]


def test_store_false_strips_every_id_and_drops_reasoning_without_content() -> None:
    items, counts = R.prepare_input(_codex_turn_two(None), False, A)
    assert all("id" not in i for i in items)
    assert [i["type"] for i in items] == ["message", "function_call", "function_call_output"]
    assert items[1]["call_id"] == "call_1"  # what ties the output to its call stays
    assert counts == {"stripped": 3, "dropped": 1, "unmarked": 0}


def test_store_true_keeps_ids_for_the_resource_that_stored_them() -> None:
    items, counts = R.prepare_input(_codex_turn_two(None), True, A)
    assert [i.get("id") for i in items] == ["msg_1", "rs_1", "fc_1", "fco_1"]
    assert counts["stripped"] == counts["dropped"] == 0


def test_encrypted_reasoning_reaches_only_the_upstream_that_made_it() -> None:
    marked = R.mark("gAAAAAsealed", A)
    assert marked.startswith("aigw1:") and "gAAAAAsealed" in marked and "openai" not in marked
    assert R.mark(marked, B) == marked  # marked once, by the upstream that made it
    same, counts = R.prepare_input(_codex_turn_two(marked), False, A)
    reasoning = [i for i in same if i["type"] == "reasoning"]
    assert reasoning == [{"type": "reasoning", "summary": [], "encrypted_content": "gAAAAAsealed"}]
    assert counts["unmarked"] == 1
    other, counts = R.prepare_input(_codex_turn_two(marked), False, B)
    assert [i["type"] for i in other] == ["message", "function_call", "function_call_output"]
    assert counts["dropped"] == 1
    # content the gateway never marked (from before it, or another gateway) passes as it is
    plain, _ = R.prepare_input(_codex_turn_two("gAAAAAother"), False, B)
    assert [i.get("encrypted_content") for i in plain if i["type"] == "reasoning"] == [
        "gAAAAAother"
    ]


def test_output_and_stream_events_are_marked_in_place() -> None:
    response = {
        "output": [
            {"type": "reasoning", "encrypted_content": "gAAAAx"},
            {"type": "message", "content": []},
        ]
    }
    R.mark_output(response, A)
    assert response["output"][0]["encrypted_content"] == f"aigw1:{A}:gAAAAx"

    class Item:
        type = "reasoning"
        encrypted_content = "gAAAAy"

    class Event:
        item = Item()
        response = None

    event = Event()
    R.mark_event(event, B)
    assert event.item.encrypted_content == f"aigw1:{B}:gAAAAy"
    completed = {
        "type": "response.completed",
        "response": {"output": [{"type": "reasoning", "encrypted_content": "gAAAAz"}]},
    }
    R.mark_event(completed, A)
    assert completed["response"]["output"][0]["encrypted_content"] == f"aigw1:{A}:gAAAAz"
    assert R.unmark("aigw1:x") == (None, "aigw1:x")  # malformed: left to Azure to refuse
