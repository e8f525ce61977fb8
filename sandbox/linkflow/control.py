"""The control API of the Linkflow side, for tests and demos (no token):

- `GET /_control/linkflow`: timings, and per app its sizes and counts.
  `POST /_control/linkflow` changes timings (`token_ttl_seconds` 7200, `report_seconds` 6,
  `tag_calculation_seconds` 30, `tag_calculation_failure_rate` 0, `tag_export_seconds` 9,
  `tag_export_failure_rate` 0, `upload_limit_bytes` 100 MB, `tag_quota` 50,
  `group_quota` 200) and sizes (`contacts` 1000, `big_group_members` 1000 for the group
  "全量会员", `orders` 200). Sizes re-seed the workspace of `app_key` (every workspace
  when absent); tokens stay valid. `{"contacts": 100000, "big_group_members": 100000}`
  costs nothing up front.
- `GET|POST /_control/linkflow/apps`: the App Keys; POST `{"key", "secret", sizes...}`
  registers another app with its own workspace (until the next reset).
- `GET|DELETE /_control/linkflow/messages?app_key=&request_id=&domain=`: what was posted
  to `/open/messages` and `/open/messages/orders`, one entry per message, with
  `request_id`, `message_id` and `duplicate`.
- `GET /_control/linkflow/shorturls?app_key=`: short links with their targets and clicks.
- `GET /_control/linkflow/tags?app_key=`: tags with calculation status, files and counts.
- `GET /_control/linkflow/dimensions?app_key=`: the rows uploaded to dimension tables.

Faults and the journal are the sandbox's own (`/_control/faults`, `/_control/requests`):
Linkflow paths keep their `/linkflow` prefix there (see `sandbox.linkflow.endpoint`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from sandbox.control import ControlError, control
from sandbox.linkflow import PREFIX
from sandbox.linkflow.state import DEFAULT_CONFIG, DEFAULT_SIZES, LinkflowState, Workspace
from sandbox.state import SandboxState


def _workspaces(linkflow: LinkflowState, app_key: str | None) -> list[Workspace]:
    if app_key is None:
        return list(linkflow.workspaces.values())
    if app_key not in linkflow.workspaces:
        raise ControlError(f"unknown app_key {app_key!r}")
    return [linkflow.workspaces[app_key]]


def _sizes(body: dict) -> dict:
    return {name: body[name] for name in DEFAULT_SIZES if name in body}


@control
def settings(state: SandboxState, body: dict, request: Request) -> dict:
    linkflow = state.linkflow
    if request.method == "POST":
        unknown = set(body) - set(DEFAULT_CONFIG) - set(DEFAULT_SIZES) - {"app_key"}
        if unknown:
            raise ControlError(f"unknown keys: {', '.join(sorted(unknown))}")
        targets = _workspaces(linkflow, body.get("app_key"))
        sizes = _sizes(body)
        linkflow.check_sizes(sizes)
        linkflow.set_config({k: v for k, v in body.items() if k in DEFAULT_CONFIG})
        if sizes:
            for workspace in targets:
                linkflow.resize(workspace.app_key, sizes)
    return linkflow.summary()


@control
def apps(state: SandboxState, body: dict, request: Request) -> dict:
    linkflow = state.linkflow
    if request.method == "POST":
        key, secret = body.get("key"), body.get("secret")
        if not isinstance(key, str) or not key or ":" in key or "," in key:
            raise ControlError("key is required (no ':' nor ',')")
        if not isinstance(secret, str) or not secret:
            raise ControlError("secret is required")
        linkflow.register_app(key, secret, _sizes(body))
    return {"apps": [workspace.summary() for workspace in linkflow.workspaces.values()]}


@control
def messages(state: SandboxState, body: dict, request: Request) -> dict:
    query = request.query_params
    targets = _workspaces(state.linkflow, query.get("app_key"))
    if request.method == "DELETE":
        for workspace in targets:
            workspace.messages.clear()
        return {"messages": []}
    found = [
        {"app_key": workspace.app_key, **message}
        for workspace in targets
        for message in workspace.messages
        if all(
            query.get(name) is None or str(message.get(name)) == query[name]
            for name in ("request_id", "message_id", "domain")
        )
    ]
    return {"messages": found}


@control
def short_urls(state: SandboxState, body: dict, request: Request) -> dict:
    app_key = request.query_params.get("app_key")
    base = str(request.base_url).rstrip("/") + PREFIX
    return {
        "shorturls": [
            link.as_json(base)
            for link in state.linkflow.short_links.values()
            if app_key is None or link.app_key == app_key
        ]
    }


@control
def tags(state: SandboxState, body: dict, request: Request) -> dict:
    targets = _workspaces(state.linkflow, request.query_params.get("app_key"))
    now = state.now()
    out = []
    for workspace in targets:
        workspace.settle(now)
        out += [
            {"app_key": workspace.app_key, **tag.control_json()}
            for tag in sorted(workspace.tags.values(), key=lambda t: t.tag_id)
        ]
    return {"tags": out}


@control
def dimensions(state: SandboxState, body: dict, request: Request) -> dict:
    targets = _workspaces(state.linkflow, request.query_params.get("app_key"))
    return {
        "dimensions": [
            {
                "app_key": workspace.app_key,
                "alias": table.alias,
                "primaryKey": table.primary_key,
                "rows": list(table.rows.values()),
            }
            for workspace in targets
            for table in workspace.dimensions.values()
        ]
    }


ROUTES = [
    Route("/_control/linkflow", settings, methods=["GET", "POST"]),
    Route("/_control/linkflow/apps", apps, methods=["GET", "POST"]),
    Route("/_control/linkflow/messages", messages, methods=["GET", "DELETE"]),
    Route("/_control/linkflow/shorturls", short_urls, methods=["GET"]),
    Route("/_control/linkflow/tags", tags, methods=["GET"]),
    Route("/_control/linkflow/dimensions", dimensions, methods=["GET"]),
]
