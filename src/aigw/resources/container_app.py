"""The container app running LiteLLM: its body built from the desired fields, and read back
into the same shape so only what aigw manages is compared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.errors import ACR_PULL_WAIT, role_wait
from aigw.azure.rest import get_or_none, lower_id, norm_location, to_rest
from aigw.config.naming import (
    AZURE_OPENAI_KEY_SECRET,
    DEVELOPER_KEYS_SECRET,
    FORMER_DEVELOPER_KEYS_SECRET,
    GATEWAY_KEY_SECRET,
    GUARD_SECRET,
    LIMITS_SECRET,
    LITELLM_CONFIG_SECRET,
    RESPONSES_SECRET,
    USAGE_SECRET,
    NameRule,
)
from aigw.errors import AigwError
from aigw.gateway.render import (
    AZURE_OPENAI_KEY_VAR,
    CLIENT_ID_VAR,
    CONFIG_FILE_NAME,
    CONFIG_HASH_VAR,
    CONFIG_MOUNT_DIR,
    DEVELOPER_KEYS_FILE_NAME,
    GATEWAY_KEY_FILE_NAME,
    GUARD_FILE_NAME,
    LIMITS_FILE_NAME,
    RESPONSES_FILE_NAME,
    USAGE_FILE_NAME,
)
from aigw.gateway.url import LIVENESS_PATH, READINESS_PATH
from aigw.resources import adapter, adapters, registered, upstreams
from aigw.resources import revision_traffic as rt
from aigw.resources.base import Base, Inputs
from aigw.state import (
    ABSENT,
    CONFIG_VOLUME,
    CONTAINER_NAME,
    Key,
    Kind,
    Observed,
    Ref,
    Resource,
    resolve,
)

# The config volume: secret name -> file name below CONFIG_MOUNT_DIR.
VOLUME_FILES = {
    LITELLM_CONFIG_SECRET: CONFIG_FILE_NAME,
    GUARD_SECRET: GUARD_FILE_NAME,
    USAGE_SECRET: USAGE_FILE_NAME,
    RESPONSES_SECRET: RESPONSES_FILE_NAME,
    LIMITS_SECRET: LIMITS_FILE_NAME,
}
# Key Vault secrets mounted in the same volume (a Key Vault reference in a secret volume:
# learn.microsoft.com/azure/container-apps/manage-secrets, "Mounting secrets in a volume"): the
# gateway key, read by the guard and never in the container's environment (gateway/render.py
# GATEWAY_KEY_FILE_NAME), and the developer keys' hashes (issue 14, written by `aigw keys`).
VAULT_VOLUME_FILES = {
    GATEWAY_KEY_SECRET: GATEWAY_KEY_FILE_NAME,
    DEVELOPER_KEYS_SECRET: DEVELOPER_KEYS_FILE_NAME,
}
# Container-app secrets kept under a former name, each referencing the Key Vault secret of the
# name it has now: a revision the previous aigw made (the `previous` one after the upgrade,
# active, on its label URL, the one `aigw rollback` returns to) mounts the developer keys from
# `aigw-dev-keys`; with that app secret gone it could not restart, and pointing it at the old
# Key Vault secret would serve keys revoked since. Not mounted by the revisions aigw makes now.
FORMER_SECRETS = {FORMER_DEVELOPER_KEYS_SECRET: DEVELOPER_KEYS_SECRET}
PROBES = [
    {"type": "Startup", "path": LIVENESS_PATH, "period": 2, "failureThreshold": 30},
    {"type": "Liveness", "path": LIVENESS_PATH, "period": 30, "failureThreshold": 3},
    {"type": "Readiness", "path": READINESS_PATH, "period": 10, "failureThreshold": 3},
]


def ip_rules(allowed_ips: list[str]) -> list[dict[str, str]]:
    """Container Apps ingress IP restrictions for gateway.allowed_ips: Allow rules only (Azure
    refuses a mix of Allow and Deny; with Allow rules, every other address is denied)."""
    return [
        {
            "name": f"aigw-allow-{i + 1}",
            "ipAddressRange": cidr,
            "action": "Allow",
            "description": "gateway.allowed_ips (aigw)",
        }
        for i, cidr in enumerate(allowed_ips)
    ]


def only_moved(before: list[str], after: list[str]) -> bool:
    """Whether the Key Vault references changed only by the developer keys' move to their new
    name (issue 25): the former secret's references are gone and only the new secret's came.
    Deploy made the new secret as a copy of the former one in this run (it never writes the
    developer keys otherwise: resources/secrets.py `copy_of`), so every running revision
    already holds its content and a restart would only drop the requests in flight (measured
    on the local cloud: 41 of 100 polls reset while the live revision restarted)."""
    gone, came = set(before) - set(after), set(after) - set(before)
    former, moved = (
        f"/secrets/{FORMER_DEVELOPER_KEYS_SECRET}/",
        f"/secrets/{DEVELOPER_KEYS_SECRET}/",
    )
    return (
        bool(gone)
        and all(former in url for url in gone)
        and all(moved in url for url in came)
        and not any(former in url for url in after)
    )


def _kv_urls(body: dict[str, Any]) -> list[str]:
    secrets = ((body.get("properties") or {}).get("configuration") or {}).get("secrets") or []
    return sorted(str(s["keyVaultUrl"]) for s in secrets if s.get("keyVaultUrl"))


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    ingress = (props.get("configuration") or {}).get("ingress") or {}
    return {
        "kv_urls": _kv_urls(body),
        "id": body.get("id"),
        "fqdn": ingress.get("fqdn"),
        "latest_revision": props.get("latestRevisionName"),
        "latest_ready_revision": props.get("latestReadyRevisionName"),
        "provisioning_state": props.get("provisioningState"),
        "running_status": props.get("runningStatus"),
        # for safe rollouts (revision_traffic.py)
        "revisions_mode": (props.get("configuration") or {}).get("activeRevisionsMode"),
        "traffic": ingress.get("traffic") or [],
        "revision_suffix": (props.get("template") or {}).get("revisionSuffix"),
        "template_sha": rt.template_sha(read_fields(body)),
    }


def build_body(m: dict[str, Any], volume_files: dict[str, str]) -> dict[str, Any]:
    """The ARM body for `m`, the resolved managed fields of the desired container app;
    `volume_files` holds the content of each secret mounted in the config volume."""
    mount_dir = m["configMount"]
    secrets: list[dict[str, Any]] = []
    for name, spec in m["secrets"].items():
        if name in m["configFiles"] and "keyVaultSecret" not in spec:
            secrets.append({"name": name, "value": volume_files[name]})
        else:
            version = spec.get("version")
            if not isinstance(version, str) or not version:
                raise RuntimeError(f"the version of Key Vault secret {name} is not known yet")
            url = f"{str(spec['vaultUri']).rstrip('/')}/secrets/{spec['keyVaultSecret']}/{version}"
            secrets.append({"name": name, "keyVaultUrl": url, "identity": m["identity"]})
    env = [
        {"name": k, "secretRef": v["secretRef"]} if isinstance(v, dict) else {"name": k, "value": v}
        for k, v in m["env"].items()
    ]
    port = m["ingress"]["targetPort"]
    ingress: dict[str, Any] = {
        "external": m["ingress"]["external"],
        "targetPort": port,
        "transport": "auto",
        "allowInsecure": False,
    }
    if m["ingress"]["ipSecurityRestrictions"]:  # a PUT without them removes every rule
        ingress["ipSecurityRestrictions"] = m["ingress"]["ipSecurityRestrictions"]
    if m.get("traffic"):  # multiple-revision mode: who serves (revision_traffic.py)
        ingress["traffic"] = m["traffic"]
    probes = [
        {
            "type": p["type"],
            "httpGet": {"path": p["path"], "port": port},
            "periodSeconds": p["period"],
            "failureThreshold": p["failureThreshold"],
        }
        for p in m["probes"]
    ]
    return {
        "location": m["location"],
        "tags": m["tags"],
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {m["identity"]: {}}},
        "properties": {
            "environmentId": m["environmentId"],
            "configuration": {
                "activeRevisionsMode": "Multiple",  # revisions side by side: safe rollouts
                "ingress": ingress,
                "secrets": secrets,
                # A private registry: pulled with the app's identity (AcrPull on it).
                **(
                    {
                        "registries": [
                            {"server": r["server"], "identity": m["identity"]}
                            for r in m["registries"]
                        ]
                    }
                    if m.get("registries")
                    else {}
                ),
            },
            "template": {
                **({"revisionSuffix": m["revisionSuffix"]} if m.get("revisionSuffix") else {}),
                "containers": [
                    {
                        "name": CONTAINER_NAME,
                        "image": m["image"],
                        "args": m["args"],
                        "env": env,
                        "resources": {"cpu": m["cpu"], "memory": m["memory"]},
                        "probes": probes,
                        "volumeMounts": [{"volumeName": CONFIG_VOLUME, "mountPath": mount_dir}],
                    }
                ],
                "scale": {"minReplicas": m["minReplicas"], "maxReplicas": m["maxReplicas"]},
                "volumes": [
                    {
                        "name": CONFIG_VOLUME,
                        "storageType": "Secret",
                        "secrets": [
                            {"secretRef": name, "path": path}
                            for name, path in m["configFiles"].items()
                        ],
                    }
                ],
            },
        },
    }


def read_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The managed fields of a container app as Azure reports them (inverse of build_body)."""
    props = body.get("properties") or {}
    conf = props.get("configuration") or {}
    template = props.get("template") or {}
    containers = template.get("containers") or [{}]
    c = containers[0]
    env_list = c.get("env") or []
    env = {
        e["name"]: ({"secretRef": e["secretRef"]} if e.get("secretRef") else e.get("value"))
        for e in env_list
    }
    secrets: dict[str, Any] = {}
    for s in conf.get("secrets") or []:
        if s.get("keyVaultUrl"):
            base, _, secret = str(s["keyVaultUrl"]).partition("/secrets/")
            name, _, version = secret.rstrip("/").partition("/")
            secrets[s["name"]] = {
                "keyVaultSecret": name,
                "vaultUri": base + "/",
                "version": version or None,
            }
        else:
            secrets[s["name"]] = {"sha256": env.get(CONFIG_HASH_VAR)}
    identities = list(((body.get("identity") or {}).get("userAssignedIdentities") or {}).keys())
    mounts = c.get("volumeMounts") or [{}]
    volumes = template.get("volumes") or [{}]
    vol_files = {
        s.get("secretRef"): s.get("path") for s in volumes[0].get("secrets") or [] if s.get("path")
    }
    ingress = conf.get("ingress") or {}
    scale = template.get("scale") or {}
    resources = c.get("resources") or {}
    return {
        "location": norm_location(body.get("location")),
        "identity": lower_id(identities[0]) if identities else None,
        "environmentId": lower_id(props.get("environmentId") or props.get("managedEnvironmentId")),
        "ingress": {
            "external": ingress.get("external"),
            "targetPort": ingress.get("targetPort"),
            "ipSecurityRestrictions": [
                {k: r.get(k) for k in ("name", "ipAddressRange", "action", "description")}
                for r in ingress.get("ipSecurityRestrictions") or []
            ],
        },
        "secrets": secrets,
        "image": c.get("image"),
        "registries": [
            {"server": r.get("server"), "identity": lower_id(r.get("identity"))}
            for r in conf.get("registries") or []
        ],
        "args": list(c.get("args") or []),
        "env": env,
        "cpu": resources.get("cpu"),
        "memory": resources.get("memory"),
        "minReplicas": scale.get("minReplicas"),
        "maxReplicas": scale.get("maxReplicas"),
        "probes": [
            {
                "type": p.get("type"),
                "path": (p.get("httpGet") or {}).get("path"),
                "period": p.get("periodSeconds"),
                "failureThreshold": p.get("failureThreshold"),
            }
            for p in c.get("probes") or []
        ],
        "configMount": mounts[0].get("mountPath", ""),
        "configFiles": vol_files,
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.apps().container_apps
    found = get_or_none(lambda: ops.get(ctx.rg, res.name))
    if found is None:
        return ABSENT
    return from_body(to_rest(found))


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a container app's GET body (tests/fixtures/observe/)."""
    return Observed(
        exists=True, fields=read_fields(body), tags=body.get("tags") or {}, outputs=_outputs(body)
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    """PUT the app. Secrets are app-scoped: when they changed (a Key Vault reference now
    names a new version) running replicas keep the old value until a restart
    (learn.microsoft.com/azure/container-apps/manage-secrets), so every active revision is
    restarted then (restart_active): the live one, the `previous` one a rollback returns to and
    any `candidate` left active, each reachable on a URL of its own. A revision this PUT
    created started with the new values. `ctx.outputs` holds what observe saw before this
    PUT."""
    before = dict(ctx.outputs.get(Key.container_app) or {})
    m = resolve(ctx.managed(res), ctx.outputs)  # with tags others set kept
    roll = rt.for_put(res.name, rt.template_sha(m), before)
    if before.get("id"):  # the PUT writes the traffic too: only onto active revisions
        rt.check_traffic(
            ctx,
            res.name,
            roll["traffic"],
            latest=before.get("latest_ready_revision") or before.get("latest_revision"),
            new=roll.get("candidate"),
            doing="this deploy",
        )
    suffix = roll.get("suffix") or before.get("revision_suffix")
    body = build_body(
        {**m, "traffic": roll["traffic"], "revisionSuffix": suffix}, ctx.desired.volume_files
    )
    try:
        poller = ctx.clients.apps().container_apps.begin_create_or_update(ctx.rg, res.name, body)
        out = _outputs(to_rest(poller.result()))
    except Exception as err:
        if roll.get("candidate") and roll.get("live"):  # the live revision keeps serving
            try:
                rt.drop_candidate(ctx, res.name, m["location"], roll["candidate"], before)
            except rt.StrandedTraffic as refused:  # said; the PUT's failure is raised
                ctx.report(Key.container_app, refused.one_line())
        if role_wait(err) == ACR_PULL_WAIT and not m.get("registries"):
            # Not a role still propagating: nobody was given a way to pull (no gateway.registry).
            raise AigwError(
                f"container app {res.name}: image {str(m['image']).split('@')[0]} is in a private "
                "registry and the app has no identity to pull it with",
                hint="set gateway.registry: {server: <login server>, identity: app} in the "
                "environment file",
            ) from None
        raise
    same_revision = out["latest_revision"] == before.get("latest_revision")
    was = list(before.get("kv_urls") or [])
    if before.get("id") and out["kv_urls"] != was and not only_moved(was, out["kv_urls"]):
        new = set() if same_revision else {out["latest_revision"]}
        out["restarted"] = restart_active(ctx, res.name, skip=new)
    if roll.get("candidate"):
        out["candidate"], out["live_before"] = roll["candidate"], roll["live"]
    return out


def active_revisions(ctx: Ctx, app: str) -> list[str]:
    """The names of the app's active revisions (ContainerAppsRevisions_ListRevisions)."""
    ops = ctx.clients.apps().container_apps_revisions
    bodies = [to_rest(r) for r in ops.list_revisions(ctx.rg, app)]
    return [str(b["name"]) for b in bodies if (b.get("properties") or {}).get("active")]


def restart_active(ctx: Ctx, app: str, *, skip: set[str] | None = None) -> list[str]:
    """Restart every active revision of `app` but those in `skip`; return their names.

    Secrets are app-scoped and a running revision keeps the old value until it restarts, so a
    changed secret (a revoked developer key, a rotated gateway key) restarts them all: in
    multiple-revision mode the one a rollout replaced stays active with 0% of the traffic and
    the label `previous` (engine/rollout.py), reachable on its label URL and the revision a
    rollback returns to; restarting only the latest one left the old key working there."""
    ops = ctx.clients.apps().container_apps_revisions
    names = [n for n in active_revisions(ctx, app) if n not in (skip or set())]
    if names:
        ctx.report(Key.container_app, f"secrets changed: restarting revision(s) {', '.join(names)}")
    for name in names:
        ops.restart_revision(ctx.rg, app, name)
    return names


def restart(ctx: Ctx, res: Resource) -> dict[str, Any]:
    """Restart every active revision so each reads the Key Vault secrets again."""
    body = to_rest(ctx.clients.apps().container_apps.get(ctx.rg, res.name))
    return {**_outputs(body), "restarted": restart_active(ctx, res.name)}


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.apps().container_apps.begin_delete(ctx.rg, res.name).result()


@registered
class ContainerAppAdapter(Base):
    kind = Kind.container_app
    order = 90

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        gw = inp.config.gateway
        rendered = inp.rendered
        names = inp.names
        identity_id = adapter(Kind.identity).arm_id(inp, names.identity)
        env_id = adapter(Kind.container_env).arm_id(inp, names.container_env)
        kv_url = Ref(Key.key_vault, "vault_uri")
        keyed = inp.config.azure_openai.auth == "key"
        # What other kinds hand the app (e.g. a cache's endpoint and its key's Key Vault secret)
        wiring = [w for a in adapters() if (w := a.app_wiring(inp)) is not None]
        wired_secrets = {name: var for w in wiring for name, var in w.vault_secrets.items()}
        upstream_key: tuple[str, ...] = (AZURE_OPENAI_KEY_SECRET,) if keyed else ()
        upstream_key += tuple(name for name, _, _ in upstreams.keyed(inp))  # other upstreams
        registry_fields: dict[str, Any] = (
            {"registries": [{"server": gw.registry.server, "identity": identity_id.lower()}]}
            if gw.registry is not None
            else {}
        )
        managed = {
            "location": inp.config.location,
            "tags": inp.tags,
            # ARM ids compare case-insensitively; Azure echoes them in varying case.
            "identity": identity_id.lower(),
            "environmentId": env_id.lower(),
            "ingress": {
                "external": gw.ingress == "external",
                "targetPort": gw.port,
                "ipSecurityRestrictions": ip_rules(gw.allowed_ips),
            },
            # Versioned references: a new secret version changes the app's secret, which the
            # platform must fetch (a versionless one follows on Azure's schedule, up to 30 min:
            # learn.microsoft.com/azure/container-apps/manage-secrets). The version is what
            # Key Vault reports as current, so an unchanged key plans nothing.
            "secrets": {
                **{
                    name: {
                        "keyVaultSecret": name,
                        "vaultUri": kv_url,
                        "version": Ref(f"secret:{name}", "version"),
                    }
                    for name in dict.fromkeys(
                        (GATEWAY_KEY_SECRET, *upstream_key, *VAULT_VOLUME_FILES, *wired_secrets)
                    )
                },
                **{
                    former: {
                        "keyVaultSecret": now,
                        "vaultUri": kv_url,
                        "version": Ref(f"secret:{now}", "version"),
                    }
                    for former, now in FORMER_SECRETS.items()
                },
                **{name: {"sha256": rendered.sha256} for name in VOLUME_FILES},
            },
            "image": gw.image,
            **registry_fields,
            "args": list(rendered.args),
            "env": {
                **rendered.env,  # no gateway key: it is a file of the config volume
                # key: the Azure OpenAI key from Key Vault; identity: which of the app's
                # identities LiteLLM's ManagedIdentityCredential asks tokens for.
                **(
                    {AZURE_OPENAI_KEY_VAR: {"secretRef": AZURE_OPENAI_KEY_SECRET}}
                    if keyed
                    else {CLIENT_ID_VAR: Ref(Key.identity, "client_id")}
                ),
                **upstreams.container_env(inp),
                **(
                    {CLIENT_ID_VAR: Ref(Key.identity, "client_id")}
                    if keyed and upstreams.any_identity(inp)
                    else {}
                ),
                **{k: v for w in wiring for k, v in w.env.items()},
                **{var: {"secretRef": name} for name, var in wired_secrets.items()},
            },
            "cpu": gw.cpu,
            "memory": gw.memory,
            "minReplicas": gw.min_replicas,
            "maxReplicas": gw.max_replicas,
            "probes": PROBES,
            "configMount": CONFIG_MOUNT_DIR,
            "configFiles": {**VOLUME_FILES, **VAULT_VOLUME_FILES},
        }
        roles = [
            r.key for r in adapter(Kind.role_assignment).desired(inp) if "identity" in r.depends_on
        ]
        secrets = [s.key for s in adapter(Kind.secret).desired(inp)]
        waits = tuple(k for w in wiring for k in w.depends_on if k not in secrets)
        depends = (Key.container_env, Key.identity, *roles, *secrets, *waits)
        return [Resource(Key.container_app, self.kind, names.container_app, depends, managed)]

    namespace = "Microsoft.App"
    arm_type = "containerApps"
    name_rule = NameRule(
        "container app",
        2,
        32,
        r"[a-z][a-z0-9-]*[a-z0-9]",
        "lowercase letters, digits and '-', starting with a letter, ending alphanumeric",
        tag="ca",
        lowercase=True,
        no_double_hyphen=True,
    )
    located = True
    serves_gateway = True

    def from_body(self, body: dict[str, Any]) -> Observed:
        return from_body(body)

    def volume_files(self, inp: Inputs) -> dict[str, str]:
        return {secret: inp.rendered.files[file] for secret, file in VOLUME_FILES.items()}

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        if not obs.exists or obs.soft_deleted:
            return None
        o = obs.outputs
        state = f"{o.get('provisioning_state')}, {o.get('running_status') or 'running'}"
        state += f", revision {o.get('latest_ready_revision') or o.get('latest_revision')}"
        return True, state

    # its identity's Key Vault role is checked when the app is PUT
    needs_role_wait = True
    reads_vault_secrets = True

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def restart(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]:
        return restart(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None
