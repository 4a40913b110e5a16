"""The admin's bibliography preview (issue 17, item 9): in the form's words ("Replace stored values", not
the command's --update), with each entry's title and, for a conflict, the stored and the file's value
side by side."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.builders import StudyFactory
from tests.test_admin_roles import signed_in

pytestmark = pytest.mark.django_db

URL = "admin:evidence_study_import"
FILE = b"""@article{berman2000,
  title = {Antidepressant effects of ketamine in depressed patients},
  author = {Berman, Robert M.},
  journal = {Biological Psychiatry},
  year = {2000},
  doi = {10.5555/preview.1}
}
@article{newone,
  title = {A new trial of nothing in particular},
  author = {Tester, Ada},
  year = {2021},
  doi = {10.5555/preview.2}
}
"""


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def stored(db):
    return StudyFactory(
        title="Antidepressant effects of ketamine", year=1999, doi="10.5555/preview.1", citation_key="berman2000"
    )


@pytest.mark.parametrize("update", [False, True])
def test_the_preview_speaks_the_forms_language_and_shows_both_values(make_user, stored, update):
    client = signed_in(make_user("Curators"))
    data = {"file": SimpleUploadedFile("library.bib", FILE)}
    if update:
        data["update"] = "on"
    html = client.post(reverse(URL), data).content.decode()
    words = text(html)
    assert "--update" not in html
    assert "Replace stored values" in words
    # the titles: the stored study's, the file's for the new entry
    assert "A new trial of nothing in particular" in words
    if update:  # no conflict: the stored values will be replaced
        assert "Replace stored values” is ticked" in words and 'id="import-conflict"' not in html
        return
    conflict = html.split('id="import-conflict"', 1)[1]
    assert "choose another file with “Replace stored values” ticked" in text(conflict)
    differences = conflict.split('class="import-differences"', 1)[1].split("</table>", 1)[0]
    rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", differences, re.S)]
    assert rows[0] == "Field Stored In the file"
    assert "title Antidepressant effects of ketamine Antidepressant effects of ketamine in depressed patients" in rows
    assert "year 1999 2000" in rows
