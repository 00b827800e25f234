"""The field types of environment files: validated strings and numbers, each with the one line a
user reads when it is wrong, and the strict base model (pure, no I/O). The models that use
them: config/upstreams.py (models and the Azure OpenAI accounts serving them),
config/hosting.py (where the gateway runs), config/model.py (an environment)."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
)

from aigw.owned import OWNERSHIP_TAGS

_API_VERSION_RE = re.compile(r"(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest|v1)")
_IMAGE_RE = re.compile(
    r"(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)
_ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# aigw's own bound on gateway.allowed_ips: Azure documents no number of ingress IP rules
# (learn.microsoft.com/azure/container-apps/ip-restrictions), so stay well inside it.
MAX_ALLOWED_IPS = 100


def _api_version(value: Any) -> Any:
    if isinstance(value, _dt.date):
        raise ValueError(
            f"is a date, not a string: YAML reads an unquoted {value.isoformat()} as a date; "
            f"quote it: '{value.isoformat()}'"
        )
    if isinstance(value, str) and not _API_VERSION_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an Azure OpenAI api-version: use YYYY-MM-DD, "
            "YYYY-MM-DD-preview, 'preview', 'latest' or 'v1'"
        )
    if isinstance(value, str) and value[:1].isdigit():
        try:
            _dt.date.fromisoformat(value[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a real date: use an existing api-version") from None
    return value


def _image(value: str) -> str:
    m = _IMAGE_RE.fullmatch(value)
    if not m or not m.group("tag") or not m.group("digest"):
        raise ValueError(
            f"{value!r} is not a pinned image reference: use repo:tag@sha256:<64 hex digest> "
            "(a tag alone can move under you)"
        )
    return value


_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _https_endpoint(value: str) -> str:
    m = re.fullmatch(r"https://([A-Za-z0-9.-]+)(?::(\d{1,5}))?/?", value)
    if not m:
        if value.startswith("http://"):
            raise ValueError(f"{value!r} must use https://")
        raise ValueError(
            f"{value!r} must be a bare https endpoint such as "
            "https://<resource>.openai.azure.com (no path: LiteLLM adds /openai itself)"
        )
    host, port = m.group(1), m.group(2)
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(part) for part in host.split(".")):
        raise ValueError(f"{value!r}: {host!r} is not a host name")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: port {port} is not between 1 and 65535")
    return value.rstrip("/")


def _ipv4_cidr(value: Any) -> Any:
    """An IPv4 address or CIDR block; a bare address means /32. Container Apps ingress rules
    take IPv4 CIDR only (learn.microsoft.com/azure/container-apps/ip-restrictions)."""
    if not isinstance(value, str):
        return value  # pydantic reports the type
    text = value.strip()
    if ":" in text:
        raise ValueError(f"{value!r} is IPv6: Container Apps IP restrictions take IPv4 only")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?", text):
        raise ValueError(f"{value!r} is not an IPv4 address or CIDR block such as 203.0.113.0/24")
    try:
        net = ipaddress.IPv4Network(text if "/" in text else f"{text}/32", strict=False)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR block ({e})") from None
    if str(net) != (text if "/" in text else f"{text}/32"):
        raise ValueError(
            f"{value!r} has host bits set: the block it names is {net} (write that, or "
            f"{text.split('/')[0]}/32 for one address)"
        )
    return str(net)


def _env_var(value: str) -> str:
    if not _ENV_VAR_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name")
    return value


ApiVersion = Annotated[str, BeforeValidator(_api_version)]
# YAML 1.1 reads `yes`/`no` as booleans and pydantic would take True as 1: numbers must be numbers.
Int = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]


def _number(value: object) -> object:
    # YAML numbers only: a quoted "1.5" or a `yes` is a mistake worth one line, not a number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number: write it unquoted, e.g. 5 or 2.5")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]  # an int or a float in YAML, as a float
ImageRef = Annotated[str, AfterValidator(_image)]
HttpsEndpoint = Annotated[str, AfterValidator(_https_endpoint)]
EnvVarName = Annotated[str, AfterValidator(_env_var)]
Ipv4Cidr = Annotated[str, BeforeValidator(_ipv4_cidr)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


_COGNITIVE_ACCOUNT_ID = re.compile(
    r"/subscriptions/[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w._()]{1,90}"
    r"/providers/Microsoft\.CognitiveServices/accounts/[A-Za-z0-9][A-Za-z0-9_.-]{1,63}",
    re.IGNORECASE,
)


def _account_id(value: str) -> str:
    if not _COGNITIVE_ACCOUNT_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not the ARM id of an Azure OpenAI account: use /subscriptions/<id>/"
            "resourceGroups/<group>/providers/Microsoft.CognitiveServices/accounts/<name> "
            "(az cognitiveservices account show -n <name> -g <group> --query id)"
        )
    return value


AccountId = Annotated[str, AfterValidator(_account_id)]

# "Tag names can't contain these characters: <, >, %, &, \, ?, /" and the prefixes microsoft,
# azure and windows are reserved: learn.microsoft.com/azure/azure-resource-manager/management/
# tag-resources#limitations. Names are case-insensitive there too (same page).
_RESERVED_TAG_PREFIXES = ("microsoft", "azure", "windows")


def check_tag(key: str, value: str) -> None:
    if not key.strip():
        raise ValueError("a tag name is empty: give every tag a name")
    if len(key) > 512 or len(value) > 256 or any(c in key for c in "<>%&\\?/"):
        raise ValueError(f"tag {key!r} is not a valid Azure tag")
    if key.lower().startswith(_RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"tag {key!r}: names starting with microsoft, azure or windows are reserved by Azure"
        )
    # aigw's own tags (aigw.owned): tag names are case-insensitive on Azure, none set again
    if key.lower() in OWNERSHIP_TAGS:
        raise ValueError(
            f"tag {key!r} is aigw's own (tag names are case-insensitive): use another name"
        )
