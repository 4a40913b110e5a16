"""JSON-LD for machines: the W3C Web Annotations of an article's claims (annotations.py), and local copies
of the JSON-LD contexts our documents name, with a document loader that serves them (loader.py), so a
JSON-LD processor can expand our documents without the network. SOURCES.md says where the contexts
come from."""
