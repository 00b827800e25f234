"""The local cloud serves one Azure OpenAI endpoint per named upstream (issue 16): created
through the first emulator's admin API, each on its own port (kept across restarts), each its
own account in the cloud."""

from __future__ import annotations

from pathlib import Path

import httpx

from aigw_localcloud.arm.openai_pool import enable
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator


def test_each_upstream_gets_its_own_endpoint_and_keeps_its_port(tmp_path: Path) -> None:
    cloud = LocalCloud(tmp_path)
    first = AzureOpenAIEmulator(deployments={}).start()
    pool = enable(cloud.engine, first, tmp_path)
    try:
        with httpx.Client(base_url=first.url, trust_env=False) as c:
            payg = c.put("/_aigw/endpoints/payg").json()["url"]
            assert c.put("/_aigw/endpoints/payg").json()["url"] == payg  # same name, same one
            east = c.put("/_aigw/endpoints/east").json()["url"]
            assert len({first.url, payg, east}) == 3
            assert c.put("/_aigw/endpoints/Bad_Name").status_code == 400
        assert len(cloud.engine.openai_accounts) == 2  # both linked as accounts
        # each its own faults: throttling one leaves the others answering
        with httpx.Client(base_url=payg, trust_env=False) as p:
            p.put("/_aigw/faults", json={"status": 429})
            assert p.get("/_aigw/faults").json()["fault"]["status"] == 429
        with httpx.Client(base_url=east, trust_env=False) as e:
            assert e.get("/_aigw/faults").json() == {"fault": None}
        pool.stop()
        pool = enable(cloud.engine, first, tmp_path)  # a restarted cloud
        with httpx.Client(base_url=first.url, trust_env=False) as c:
            assert c.put("/_aigw/endpoints/payg").json()["url"] == payg
        assert (tmp_path / "aoai-payg.port").read_text() == payg.rsplit(":", 1)[-1]
    finally:
        pool.stop()
        first.stop()
