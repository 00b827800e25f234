"""Deploy or destroy through aigw's workflow against a running local cloud, and SIGKILL this
process right after the k-th write request got its answer (a crash at step k of the plan).

    python crash_child.py STATE_DIR ENV_DIR AOAI_URL deploy|destroy K

K = 0: never crash. Prints the number of writes sent on the last line when it survives.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from aigw.config.load import load_env
from aigw.engine import workflow
from aigw.engine.apply import raise_on_failure
from aigw.secrets import Secret, Secrets
from aigw_localcloud.core.journal import is_write
from helpers import key_mode

GATEWAY_KEY = os.environ["AIGW_GATEWAY_KEY"]
AOAI_KEY = os.environ["AIGW_AZURE_OPENAI_API_KEY"]


def main() -> int:
    state_dir, env_dir, aoai_url, mode, k = sys.argv[1:6]
    kill_after = int(k)
    lock = threading.Lock()
    writes = [0]
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, *a: Any, **kw: Any) -> Any:
        response = original(self, method, url, *a, **kw)
        if is_write(method, urlsplit(url).path):
            with lock:
                writes[0] += 1
                if writes[0] == kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)
        return response

    requests.Session.request = request  # type: ignore[method-assign]
    config = key_mode(load_env("prod", Path(env_dir)).config).with_endpoint(aoai_url)
    target = workflow.local_target(Path(state_dir))
    target.polling_interval = 0.05
    target.retry_options = {"retry_backoff_factor": 0.02, "retry_backoff_max": 1}
    secrets = Secrets(
        gateway_key=Secret("AIGW_GATEWAY_KEY", GATEWAY_KEY),
        azure_openai_key=Secret("AIGW_AZURE_OPENAI_API_KEY", AOAI_KEY),
    )
    session = workflow.open_session(config, target, secrets=secrets, role_wait_timeout=20)
    session.ctx.retry_base, session.ctx.retry_cap, session.ctx.poll_interval = 0.05, 0.5, 0.05
    plan = workflow.make_plan(session, destroy=mode == "destroy")
    raise_on_failure(workflow.apply(session, plan))
    session.close()
    print(writes[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
