"""Two local clouds on one machine (two suites, two people): the ports each cloud tries first
are salted by its own subscription, and every label URL aigw calls is the port the cloud
actually bound (its name table), never a prediction from names alone."""

from __future__ import annotations

import socket
from pathlib import Path

from aigw.azure.session import Target
from aigw.gateway.url import label_url
from aigw_localcloud.arm import traffic
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.endpoint import (
    lookup_label,
    predicted_app_port,
    predicted_label_port,
    predicted_vault_port,
)

SUB = "11111111-2222-3333-4444-555555555555"
RG = "pvc-dev-rg"
APP = "pvc-dev-aigw-ca"
APP_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.App/containerApps/{APP}"


def test_predictions_are_salted_per_cloud_and_stable_within_one() -> None:
    other = "99999999-2222-3333-4444-555555555555"
    for predict in (
        lambda s: predicted_vault_port("pvc-dev-kv", s),
        lambda s: predicted_app_port(APP, s),
        lambda s: predicted_label_port(APP, "candidate", s),
    ):
        assert predict(SUB) == predict(SUB)
        assert predict(SUB) != predict(other)
    assert predicted_vault_port("PVC-dev-KV", SUB) == predicted_vault_port("pvc-dev-kv", SUB)


def test_two_clouds_open_the_same_vault_name_on_their_own_ports(tmp_path: Path) -> None:
    a, b = LocalCloud(tmp_path / "a").start(), LocalCloud(tmp_path / "b").start()
    try:
        assert a.subscription_id != b.subscription_id
        port_a = a.engine.open_vault_listener("pvc-dev-kv", None)
        port_b = b.engine.open_vault_listener("pvc-dev-kv", None)
        assert port_a != port_b
        assert port_a == predicted_vault_port("pvc-dev-kv", a.subscription_id)
        assert port_b == predicted_vault_port("pvc-dev-kv", b.subscription_id)
    finally:
        a.stop()
        b.stop()


def _app(backend_port: int) -> dict[str, object]:
    return {
        "id": APP_ID,
        "name": APP,
        "_revisions": [{"name": f"{APP}--r1", "active": True, "port": backend_port}],
        "properties": {
            "latestRevisionName": f"{APP}--r1",
            "configuration": {
                "activeRevisionsMode": "Multiple",
                "ingress": {
                    "traffic": [{"revisionName": f"{APP}--r1", "weight": 100, "label": "candidate"}]
                },
            },
        },
    }


def test_a_label_url_is_the_port_bound_not_the_one_predicted(tmp_path: Path) -> None:
    """Another process holds the label's predicted port: the cloud binds elsewhere and aigw
    calls that port. (Before: aigw called the predicted port, i.e. the other process.)"""
    cloud = LocalCloud(tmp_path / "cloud").start()
    squatter = socket.socket()
    backend = socket.socket()
    try:
        squatter.bind(("127.0.0.1", predicted_label_port(APP, "candidate", SUB)))
        squatter.listen(1)
        backend.bind(("127.0.0.1", 0))
        backend.listen(1)
        app = _app(backend.getsockname()[1])
        traffic.open_fronts(cloud.engine, app)
        bound = lookup_label(cloud.state_dir, APP_ID, "candidate")
        assert bound is not None
        assert bound != squatter.getsockname()[1]
        with socket.create_connection(("127.0.0.1", bound), timeout=5):
            pass  # the label's own listener answers there
        target = Target(SUB, credential=None, local=True, local_state_dir=cloud.state_dir)
        port = target.local_label_port(RG, APP, "candidate")
        assert port == bound
        assert label_url(None, APP, "candidate", local=True, local_port=port) == (
            f"https://127.0.0.1:{bound}"
        )
        assert target.local_label_port(RG, APP, "previous") is None  # no such label: no URL
        traffic.stop_app(cloud.engine, app)
        assert lookup_label(cloud.state_dir, APP_ID, "candidate") is None
    finally:
        squatter.close()
        backend.close()
        cloud.stop()
