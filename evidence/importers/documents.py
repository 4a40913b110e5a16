"""An article's text from an uploaded file: plain text, a web page (HTML) or a Word document (.docx).

Parsing only, no database. Each format is read by a library made for it: trafilatura finds the article's
own text in a web page (leaving out navigation, adverts and comments) and mammoth reads a .docx's
paragraphs. The result is plain text with LF line breaks, one paragraph a line, as claims are anchored
by character offsets into it (evidence.anchoring). Anything that cannot be read raises DocumentError
with a reason for the editor; the caller checks the upload's size first (MAX_DOCUMENT_BYTES).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

# An uploaded article file, and what a .docx may unpack to: a Word file of a long article is well under
# a megabyte; a few megabytes of images fit too. A zip that unpacks to more is refused unread.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024
# More than a long-form article (about 80,000 words); the pasted text has the same limit.
MAX_TEXT_CHARS = 500_000
KINDS = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".docx": "docx"}
ACCEPT = ",".join(KINDS)
# three or more line breaks in a row (with blanks between) become one blank line
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class DocumentError(ValueError):
    """The file's text cannot be read; the message says why, for the editor."""


def extract_text(name: str, data: bytes) -> str:
    """The text of a file named ``name`` holding ``data``, by its extension (.txt, .html/.htm, .docx)."""
    kind = KINDS.get(PurePath(name).suffix.lower())
    if kind is None:
        raise DocumentError("Upload plain text (.txt), a web page (.html) or a Word document (.docx).")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")
    if kind == "text":
        text = _decode(data, "The file is not UTF-8 text.")
    elif kind == "html":
        text = _html_text(data)
    else:
        text = _docx_text(data)
    return tidy(text)


def tidy(text: str) -> str:
    """LF line breaks, no trailing spaces on a line, at most one blank line in a row, no blank lines at
    either end; refuses what no article text can hold (NUL) or is too long to be one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip("\n")
    if "\x00" in text:
        raise DocumentError("The text holds a NUL character, which no text can store.")
    if not text.strip():
        raise DocumentError("No article text was found in the file.")
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentError(
            f"The text is {len(text):,} characters long; an article may have at most {MAX_TEXT_CHARS:,}."
        )
    return text


def _decode(data: bytes, refusal: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(refusal) from None


# trafilatura and mammoth are imported when a file needs them: together they take about 0.4 s to import,
# which every process (the web server's, each test run's, each command's) would otherwise pay at start-up.


def _html_text(data: bytes) -> str:
    import trafilatura

    # trafilatura detects the page's encoding from its bytes (meta charset, then a guess)
    text = trafilatura.extract(
        data, output_format="txt", include_comments=False, include_tables=False, favor_recall=True
    )
    if not text:
        raise DocumentError("No article text was found in the web page.")
    return text


def _docx_text(data: bytes) -> str:
    import mammoth

    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            if "word/document.xml" not in archive.namelist():
                raise DocumentError("The file is not a Word document (.docx): it has no word/document.xml.")
            # a small zip may unpack to gigabytes; the sizes it declares are checked before anything is read
            if sum(member.file_size for member in archive.infolist()) > MAX_DOCX_UNPACKED_BYTES:
                raise DocumentError("The Word document unpacks to more than 50 MB.")
    except zipfile.BadZipFile:
        raise DocumentError("The file is not a Word document (.docx): it is not a zip archive.") from None
    buffer.seek(0)
    try:
        result = mammoth.extract_raw_text(buffer)
    except Exception as exc:  # mammoth raises whatever its XML and zip readers raise on a damaged file
        raise DocumentError(f"The Word document cannot be read ({type(exc).__name__}).") from None
    return result.value
