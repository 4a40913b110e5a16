"""A JSON-LD document loader that serves our bundled contexts and refuses every other URL.

For pyld (``jsonld.expand(doc, {"documentLoader": document_loader})``) and any processor taking the same
kind of callable: no request ever leaves the machine, and a document naming a context we do not bundle
fails loudly instead of going to the network.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# context URL → bundled file (SOURCES.md says where each comes from)
CONTEXTS: dict[str, str] = {
    "http://www.w3.org/ns/anno.jsonld": "anno.jsonld",
    "https://www.w3.org/ns/anno.jsonld": "anno.jsonld",
    "https://schema.org": "schema.org.jsonld",
    "https://schema.org/": "schema.org.jsonld",
    "http://schema.org": "schema.org.jsonld",
    "http://schema.org/": "schema.org.jsonld",
    "https://schema.org/docs/jsonldcontext.jsonld": "schema.org.jsonld",
}


class UnknownContext(LookupError):
    """A document named a context URL that is not bundled."""


@functools.cache
def _load(filename: str) -> dict[str, Any]:
    return json.loads((HERE / filename).read_text(encoding="utf-8"))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's RemoteDocument for a bundled context."""
    filename = CONTEXTS.get(url)
    if filename is None:
        raise UnknownContext(f"{url} is not a bundled JSON-LD context (evidence/jsonld/SOURCES.md)")
    return {"contextUrl": None, "documentUrl": url, "document": _load(filename)}
