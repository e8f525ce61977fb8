"""The sandbox's ASGI application."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STARTED_AT = time.time()


async def health(request: Request) -> JSONResponse:
    return JSONResponse(
        {"status": "ok", "service": "sandbox", "uptime_s": round(time.time() - STARTED_AT, 1)}
    )


def create_app() -> Starlette:
    return Starlette(routes=[Route("/health", health, methods=["GET"])])


app = create_app()
