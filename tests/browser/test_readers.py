"""Readers' reach in a real browser (issue 23): the claim card framed by a publisher's page on another origin,
shown where its policy allows that origin and refused where it does not."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evidence.models import Claim
from tests.browser.conftest import PHONE, screenshot
from tests.factories import publish

pytestmark = pytest.mark.browser


@pytest.fixture
def publisher() -> Iterator[Callable[[str], str]]:
    """publisher(html) → the origin of a web server on this machine, on a port of its own (so an origin other
    than the live server's), answering every GET with ``html``. Local, as the live server is: Chromium refuses
    a public page's frames of a local server whatever the policy says (Private Network Access)."""
    servers = []

    def serve(html: str) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _story(card_url: str) -> str:
    return f"""<!doctype html><html lang="en"><head><title>A publisher</title></head><body>
      <h1>Our story about ketamine</h1>
      <iframe id="card" src="{card_url}" width="480" height="260" title="Evidence review"></iframe>
    </body></html>"""


def _open(page, origin: str) -> list[str]:
    """Open the publisher's story at ``origin``; return the console messages."""
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{origin}/story")
    page.wait_for_load_state("load")
    return console


def _card_url(live_server, seed) -> tuple[str, Claim]:
    claim = Claim.objects.get(article=seed, key="K1")
    publish(claim, verdict="partly_supported", certainty="low")
    return f"{live_server.url}/claims/{claim.pk}/embed/", claim


def test_the_card_shows_inside_an_allowed_publishers_page(page, live_server, live_seed, settings, publisher):
    card_url, claim = _card_url(live_server, live_seed)
    allowed = publisher(_story(card_url))
    settings.EMBED_ORIGINS = [allowed]

    _open(page, allowed)

    card = page.frame_locator("#card")
    assert card.locator(".embed-quote").inner_text() == f"“{claim.quote}”"
    assert "Partly supported" in card.locator(".embed-verdict").inner_text()
    link = card.get_by_role("link", name="See the evidence")
    assert link.get_attribute("target") == "_blank"
    assert page.context.cookies() == []  # the card set none
    screenshot(page, "readers-embed-allowed")


def test_the_card_is_refused_inside_a_page_of_an_origin_not_allowed(page, live_server, live_seed, settings, publisher):
    card_url, _ = _card_url(live_server, live_seed)
    allowed, refused = publisher(_story(card_url)), publisher(_story(card_url))
    settings.EMBED_ORIGINS = [allowed]

    console = _open(page, refused)

    frame = next(frame for frame in page.frames if frame != page.main_frame)
    assert frame.locator(".embed-quote").count() == 0
    assert any("frame-ancestors" in message for message in console), console


def test_the_card_fits_a_narrow_frame(new_page, live_server, live_seed, settings):
    card_url, _ = _card_url(live_server, live_seed)
    phone = new_page(viewport=PHONE)
    phone.set_viewport_size({"width": 260, "height": 200})
    phone.goto(card_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 260
    # the link back is inside the snippet's 260 pixels of height at the narrowest card the oEmbed answer offers
    phone.set_viewport_size({"width": 240, "height": 260})
    box = phone.locator(".embed-link").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 260
    screenshot(phone, "readers-embed-narrow")
