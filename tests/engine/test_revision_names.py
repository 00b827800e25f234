"""aigw names every new revision itself (resources/revision_traffic.new_suffix): with the longest
container app name its config accepts (its kind's name_rule, 32 characters), the revision name
`<app>--<suffix>` still passes Container Apps' rule (ContainerAppInvalidRevisionName; the local
cloud's check_revision_suffix, which cites its sources). Bad input cannot reach it: an app name
with '--', upper case or over 32 characters is refused when the config loads."""

from __future__ import annotations

import pytest

from aigw.resources import adapter
from aigw.resources.revision_traffic import for_put, new_suffix
from aigw.state import Kind
from aigw_localcloud.arm.container_app import MAX_REVISION_NAME, check_revision_suffix
from aigw_localcloud.core.errors import CloudError


def test_the_longest_app_name_and_aigws_suffix_make_a_valid_revision_name() -> None:
    rule = adapter(Kind.container_app).name_rule
    assert rule is not None
    app = "c" + "a" * (rule.max_len - 1)
    assert rule.problem(app) is None
    with pytest.raises(CloudError):  # the check does refuse one character more
        check_revision_suffix(app, new_suffix("f" * 64) + "x")
    roll = for_put(app, "0123456789abcdef" * 4, {})
    suffix = roll["suffix"]
    assert roll["candidate"] == f"{app}--{suffix}"
    assert len(roll["candidate"]) == MAX_REVISION_NAME  # exactly the budget
    check_revision_suffix(app, suffix)


@pytest.mark.parametrize("name", ["ca--two", "Ca-upper", "c" * 33, "9starts-with-digit"])
def test_an_app_name_that_would_make_a_bad_revision_name_is_refused(name: str) -> None:
    rule = adapter(Kind.container_app).name_rule
    assert rule is not None and rule.problem(name)
