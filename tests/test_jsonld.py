"""Our JSON-LD is JSON-LD: a processor (pyld) expands the ClaimReview feed and the Web Annotations without
error, with the bundled schema.org and W3C annotation contexts (evidence/jsonld/, no network), and every
term lands on the IRI it should."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pyld import jsonld
from pyld.jsonld import JsonLdError

from evidence.jsonld.loader import UnknownContext, document_loader
from tests.builders import publish
from tests.test_opendata import ARTICLE_SLUG, claim

SCHEMA = "http://schema.org/"
OA = "http://www.w3.org/ns/oa#"
AS = "http://www.w3.org/ns/activitystreams#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OPTIONS = {"documentLoader": document_loader}


def expand(document) -> list[dict]:
    return jsonld.expand(document, OPTIONS)


def values(node: dict, iri: str) -> list:
    return [v.get("@value", v.get("@id", v)) for v in node[iri]]


@pytest.fixture
def feeds(client, seed):
    publish(claim("K1"), verdict="supported", certainty="high")
    publish(claim("K5"), verdict="partly_supported", certainty="moderate")
    get = client.get
    return {
        "claimreview": get(reverse("evidence:article-claimreview", args=[ARTICLE_SLUG])).json(),
        "annotations": get(reverse("evidence:article-annotations", args=[ARTICLE_SLUG])).json(),
    }


def test_claimreview_feed_expands_to_schema_org_terms(feeds):
    expanded = expand(feeds["claimreview"])
    assert len(expanded) == 2
    review = expanded[0]
    assert review["@type"] == [SCHEMA + "ClaimReview"]
    assert values(review, SCHEMA + "claimReviewed") == [claim("K1").quote]
    assert values(review, SCHEMA + "url")[0].endswith(claim("K1").get_absolute_url())  # an IRI, not a string
    assert review[SCHEMA + "datePublished"][0]["@type"] == SCHEMA + "Date"
    item = review[SCHEMA + "itemReviewed"][0]
    assert item["@type"] == [SCHEMA + "Claim"]
    appearance = item[SCHEMA + "appearance"][0]
    assert appearance["@type"] == [SCHEMA + "Article"] and SCHEMA + "headline" in appearance
    assert item[SCHEMA + "firstAppearance"][0]["@type"] == [SCHEMA + "Article"]
    author = review[SCHEMA + "author"][0]
    assert author["@type"] == [SCHEMA + "Organization"] and values(author, SCHEMA + "name") == ["Evidence review"]
    rating = review[SCHEMA + "reviewRating"][0]
    assert rating["@type"] == [SCHEMA + "Rating"]
    assert values(rating, SCHEMA + "ratingValue") == [4]
    assert values(rating, SCHEMA + "bestRating") == [4] and values(rating, SCHEMA + "worstRating") == [1]
    assert values(rating, SCHEMA + "alternateName") == ["Supported (high certainty evidence)"]


def test_every_claimreview_term_is_in_the_bundled_context(feeds):
    """@vocab would expand an unknown term too; the bundled context must define each one we use, so a
    term schema.org does not have (a typo) is caught."""
    context = document_loader("https://schema.org")["document"]["@context"]
    defined = set(context)

    def terms(node) -> set[str]:
        found = set()
        if isinstance(node, dict):
            for key, value in node.items():
                if not key.startswith("@"):
                    found.add(key)
                if key == "@type":
                    found.add(value)
                found |= terms(value)
        elif isinstance(node, list):
            for item in node:
                found |= terms(item)
        return found

    assert terms(feeds["claimreview"]) <= defined


def test_annotations_expand_to_the_web_annotation_vocabulary(feeds):
    (collection,) = expand(feeds["annotations"])
    assert collection["@type"] == [AS + "OrderedCollection"]
    assert collection[AS + "totalItems"][0] == {"@type": XSD + "nonNegativeInteger", "@value": 38}
    page = collection[AS + "first"][0]
    assert page["@type"] == [AS + "OrderedCollectionPage"]
    annotations = page[AS + "items"][0]["@list"]
    assert len(annotations) == 38
    by_id = {a["@id"].rsplit("#claim-", 1)[1]: a for a in annotations}
    k1 = by_id[str(claim("K1").pk)]
    assert k1["@type"] == [OA + "Annotation"]
    assert values(k1, OA + "motivatedBy") == [OA + "assessing"]
    assert k1["http://purl.org/dc/terms/created"][0]["@type"] == XSD + "dateTime"
    body, link = k1[OA + "hasBody"]
    assert body["@type"] == [OA + "TextualBody"]
    assert values(body, "http://www.w3.org/1999/02/22-rdf-syntax-ns#value")[0].startswith("Supported")
    assert link["@id"].endswith(claim("K1").get_absolute_url())
    target = k1[OA + "hasTarget"][0]
    assert values(target, OA + "hasSource")[0].endswith(f"/articles/{ARTICLE_SLUG}/")
    quote, position = target[OA + "hasSelector"]
    assert quote["@type"] == [OA + "TextQuoteSelector"]
    c = claim("K1")
    assert values(quote, OA + "exact") == [c.quote]
    assert values(quote, OA + "prefix") == [c.prefix] and values(quote, OA + "suffix") == [c.suffix]
    assert position["@type"] == [OA + "TextPositionSelector"]
    assert position[OA + "start"][0] == {"@type": XSD + "nonNegativeInteger", "@value": c.start}
    assert position[OA + "end"][0] == {"@type": XSD + "nonNegativeInteger", "@value": c.end}
    assert values(by_id[str(claim("K2").pk)], OA + "motivatedBy") == [OA + "highlighting"]


def test_annotations_lose_nothing_in_expansion(feeds):
    """The annotation context has no @vocab, so a term it does not define would vanish on expansion:
    compacting the expansion again must give the document back."""
    document = feeds["annotations"]
    compacted = jsonld.compact(expand(document), document["@context"], OPTIONS)
    assert compacted == document


def test_the_loader_serves_only_bundled_contexts():
    assert document_loader("http://www.w3.org/ns/anno.jsonld")["document"]["@context"]["oa"] == OA
    with pytest.raises(UnknownContext):
        document_loader("https://example.org/context.jsonld")
    with pytest.raises(JsonLdError):
        expand({"@context": "https://example.org/context.jsonld", "name": "x"})
