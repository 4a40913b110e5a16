"""Readers' reach in a real browser (issue 23): the claim card framed by a publisher's page on another origin,
shown where its policy allows that origin and refused where it does not."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.urls import reverse

from evidence.models import Article, Claim
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, screenshot
from tests.builders import publish

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


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


# --- Reader reports ---------------------------------------------------------------------------------------------

PASSWORD = "a-long-test-password"  # what tests/conftest.py's make_user gives every user


def _send_report(page, claim: Claim, message: str, *, trap: str = "") -> None:
    page.goto(claim.get_absolute_url())
    page.get_by_role("link", name="Report a problem with this claim").click()
    form = page.locator("#report-form")
    form.get_by_label("A study is missing or misread").check()
    form.get_by_label("Tell us more").fill(message)
    form.get_by_label("Your email address (optional)").fill("reader@example.org")
    if trap:  # what a form-filling robot does; a person never sees the field
        page.locator("#id_report-website").evaluate("(input, value) => { input.value = value; }", trap)
    form.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state("load")


def _desk_text(browser, live_server, make_user) -> str:
    editor = make_user("Editors")
    context = browser.new_context(base_url=live_server.url)
    desk = context.new_page()
    desk.goto("/accounts/login/")
    desk.get_by_label("Username").fill(editor.username)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_load_state("load")
    desk.goto("/editor/")
    text = desk.locator("#queue-reports").inner_text()
    context.close()
    return text


def test_a_report_reaches_the_desk_and_the_honeypot_and_rate_limit_refuse(
    page, browser, live_server, live_seed, make_user, settings
):
    settings.READER_REPORTS_PER_HOUR = 2
    claim = Claim.objects.get(article=live_seed, key="M14")
    honeypot_field = page.locator("#id_report-website")

    _send_report(page, claim, "The 2019 follow-up is missing.")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    page.goto(reverse("reviews:report", args=[claim.pk]))
    # off-screen, out of the tab order and hidden from screen readers: people never fill it in
    assert honeypot_field.evaluate("input => input.getBoundingClientRect().right") < 0
    assert honeypot_field.get_attribute("tabindex") == "-1"
    _send_report(page, claim, "Buy cheap pills.", trap="http://spam.example")
    assert page.get_by_role("heading", name="Thank you").is_visible()  # the robot learns nothing
    _send_report(page, claim, "A third report in the hour.")
    assert page.get_by_role("heading", name="Too many reports from your connection").is_visible()

    desk = _desk_text(browser, live_server, make_user)
    assert "The 2019 follow-up is missing." in desk
    assert "reader@example.org" in desk
    assert "Buy cheap pills." not in desk and "A third report" not in desk


# --- The pages at a desktop's and a phone's width ---------------------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["1280", "390"])
def test_readers_pages_fit_desktop_and_phone(new_page, live_seed, viewport):
    claim = Claim.objects.get(article=live_seed, key="M14")
    publish(claim, verdict="unsupported", certainty="very_low")
    page = new_page(viewport=viewport)
    for name, path in [
        ("home", "/"),
        ("methodology", "/methodology/"),
        ("about", "/about/"),
        ("claim", claim.get_absolute_url()),
        ("card", f"/claims/{claim.pk}/embed/"),
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {viewport['width']}px"
        screenshot(page, f"readers-{name}-{viewport['width']}")
        if viewport is DESKTOP:
            assert axe_violations(page) == [], path


# --- The overlay on the publisher's own page ----------------------------------------------------------------------

FOREIGN_PAGE = Path(__file__).resolve().parent / "samples" / "foreign-article.html"


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("how", ["by the page's address", "by data-article"])
def test_the_overlay_marks_every_claim_on_a_foreign_page(page, live_server, live_seed, publisher, how):
    """The publisher's copy (tests/browser/samples/foreign-article.html) has its own markup: quotes split across
    <em>, <a>, <abbr> and <b>, extra whitespace and line breaks; and it cut claim C7's sentence."""
    claims = {claim.key: claim for claim in Claim.objects.filter(article=live_seed)}
    publish(claims["M14"], verdict="unsupported", certainty="very_low")
    html = FOREIGN_PAGE.read_text(encoding="utf-8")
    attribute = f' data-article="{live_seed.slug}"' if how == "by data-article" else ""
    origin = publisher(
        html.replace("{{OVERLAY}}", f'<script src="{live_server.url}/embed/overlay.js"{attribute}></script>')
    )
    if how == "by the page's address":
        Article.objects.filter(pk=live_seed.pk).update(url=f"{origin}/story")
    warnings: list[str] = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))

    page.goto(f"{origin}/story")
    page.wait_for_function("document.documentElement.dataset.evidenceOverlay !== undefined")

    marked = page.evaluate(
        """() => {
          const found = {};
          for (const mark of document.querySelectorAll("mark[data-evidence-claim]")) {
            const id = mark.dataset.evidenceClaim;
            found[id] = (found[id] || "") + mark.textContent;
          }
          return found;
        }"""
    )
    by_id = {f"claim-{claim.pk}": claim for claim in claims.values()}
    marked = {by_id[key.rsplit("#", 1)[1]].key: text for key, text in marked.items()}
    # every claim but the one the publisher cut, each on its own words and no other
    assert sorted(marked) == sorted(key for key in claims if key != "C7")
    for key, text in marked.items():
        assert _squash(text) == _squash(claims[key].quote), key
    assert any("does not contain the claim" in w and claims["C7"].quote[:40] in w for w in warnings), warnings
    assert page.locator('mark[data-evidence-status="unsupported"]').count() >= 1

    first = page.locator("mark[role=button]").first
    first.focus()
    page.keyboard.press("Enter")
    panel = page.locator("[data-evidence-panel]")
    assert panel.get_by_role("link", name="See the evidence").is_visible()
    screenshot(page, f"readers-overlay-{'address' if not attribute else 'slug'}")


def test_annotations_for_an_address_we_do_not_know_are_404(page, live_server, live_seed):
    response = page.request.get(f"{live_server.url}/annotations.jsonld?url=https://nowhere.example/x")
    assert response.status == 404 and response.json()["error"]
    assert page.request.get(f"{live_server.url}/annotations.jsonld").status == 400
