"""The sandbox's ASGI application: JD Cloud's gateway and API under `/jdcloud`, its OAuth
under `/oauth2`, Linkflow's Open API under `/linkflow`, the control API under
`/_control`, the home page at `/`."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox import control, oauth, pages
from sandbox.gateway import Gateway
from sandbox.jdcloud import PREFIX
from sandbox.jdcloud import ROUTES as JDCLOUD_ROUTES
from sandbox.linkflow import PREFIX as LINKFLOW_PREFIX
from sandbox.linkflow import control as linkflow_control
from sandbox.linkflow.routes import ROUTES as LINKFLOW_ROUTES
from sandbox.settings import SandboxSettings
from sandbox.state import SandboxState

STARTED_AT = time.time()


async def health(request: Request) -> JSONResponse:
    return JSONResponse(
        {"status": "ok", "service": "sandbox", "uptime_s": round(time.time() - STARTED_AT, 1)}
    )


def create_app(settings: SandboxSettings | None = None) -> Starlette:
    """Configuration is read from the environment here, once per app."""
    state = SandboxState(settings or SandboxSettings.from_env())
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            *pages.ROUTES,
            *oauth.ROUTES,
            *control.ROUTES,
            *linkflow_control.ROUTES,
            Mount(PREFIX, routes=JDCLOUD_ROUTES),
            Mount(LINKFLOW_PREFIX, routes=LINKFLOW_ROUTES),
        ],
        middleware=[Middleware(Gateway, state=state)],
    )
    app.state.sandbox = state
    app.state.isv_transport = None  # tests put an httpx.MockTransport here
    return app


app = create_app()
