"""Replaying the recorded Crossref and NCBI answers of tests/recordings/ (see its README) with respx."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx

RECORDINGS = Path(__file__).resolve().parent / "recordings"


def replay(router: respx.MockRouter, *names: str) -> list[respx.Route]:
    """Answer each recording's request with its recorded response; returns the routes (call counts)."""
    routes = []
    for name in names:
        recording = json.loads((RECORDINGS / f"{name}.json").read_text())
        request, response = recording["request"], recording["response"]
        route = router.route(method=request["method"], url__startswith=request["url"], params=request.get("params", {}))
        if response.get("timeout"):
            route.mock(side_effect=httpx.ReadTimeout("recorded: no answer in time"))
        elif "json" in response:
            route.mock(httpx.Response(response["status"], headers=response["headers"], json=response["json"]))
        else:
            route.mock(httpx.Response(response["status"], headers=response["headers"], text=response["text"]))
        routes.append(route)
    return routes
