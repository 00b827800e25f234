"""What an emulated Azure OpenAI account keeps of its Responses conversations: the stored
responses (`store: true`, Azure's default) with their input and output items, and the key its
reasoning items' `encrypted_content` is sealed with.

Azure behaviours (each cited where it is used, in aoai_responses.py):
- `store` defaults to true; a stored response's items resolve by id and the response by
  `previous_response_id`, only on the account that stored them (each emulator is one account:
  its store is its own).
- `encrypted_content` decrypts only on the resource (account) that produced it
  (BerriAI/litellm#18094 and the fix's note in PR #22651: "encrypted using the originating
  organization's key and can only be decrypted by that same organization"). Here a token is an
  HMAC-SHA256 over its payload with a key drawn at random per emulator, so another emulator
  (another account) and any edit of the token fail verification. Not emulated: the key does not
  survive a restart of the emulator (Azure's does); nothing of the prompt is in the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Fernet's version byte (0x80), so a token starts "gAAAAA" as Azure's do ("gAAA...Za4=" in the
# invalid_encrypted_content messages of BerriAI/litellm#18094, openai/codex#8100).
_VERSION = b"\x80"
_MAC_BYTES = 32


class Sealer:
    """Seals and verifies `encrypted_content` tokens with one account's key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def seal(self, item_id: str, account: str) -> str:
        payload = json.dumps(
            {"account": account, "item": item_id, "nonce": secrets.token_hex(16)},
            separators=(",", ":"),
        ).encode()
        body = _VERSION + struct.pack(">Q", int(time.time())) + payload
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(body + mac).decode()

    def verify(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return False
        if base64.urlsafe_b64encode(raw).decode() != token:  # not canonical: edited
            return False
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(body) <= 9 or not body.startswith(_VERSION):
            return False
        return hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest())


@dataclass(frozen=True)
class StoredResponse:
    id: str
    previous_response_id: str | None
    input_items: tuple[dict[str, Any], ...]
    output_items: tuple[dict[str, Any], ...]


class ResponseStore:
    """The stored responses of one account, and their items by id. Bounded: the oldest go
    first past `limit` (Azure keeps them 30 days; a test never needs more)."""

    def __init__(self, limit: int = 2000) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()
        self._items: dict[str, dict[str, Any]] = {}

    def put(
        self,
        response_id: str,
        previous_response_id: str | None,
        input_items: Sequence[dict[str, Any]],
        output_items: Sequence[dict[str, Any]],
    ) -> None:
        stored = StoredResponse(
            response_id, previous_response_id, tuple(input_items), tuple(output_items)
        )
        with self._lock:
            self._responses[response_id] = stored
            for item in stored.output_items:
                if isinstance(item.get("id"), str):
                    self._items[item["id"]] = item
            while len(self._responses) > self._limit:
                _, old = self._responses.popitem(last=False)
                for item in old.output_items:
                    self._items.pop(str(item.get("id")), None)

    def response(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            return self._responses.get(response_id)

    def item(self, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(item_id)

    def chain(self, response_id: str | None) -> list[StoredResponse]:
        """The stored responses reachable from `response_id` through previous_response_id,
        oldest first."""
        out: list[StoredResponse] = []
        seen: set[str] = set()
        with self._lock:
            while response_id is not None and response_id not in seen:
                seen.add(response_id)
                stored = self._responses.get(response_id)
                if stored is None:
                    break
                out.append(stored)
                response_id = stored.previous_response_id
        out.reverse()
        return out
