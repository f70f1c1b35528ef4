"""English and Simplified Chinese ship complete: every message of the catalogue translated."""

import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries(text: str):
    for block in text.split("\n\n"):
        if (
            re.search(r'^msgid ""$', block, re.M)
            and "msgid_plural" not in block
            and (block.lstrip().startswith('msgid ""') or '\nmsgid ""\nmsgstr ""\n"' in block)
        ):
            continue  # the header
        yield block


def test_every_message_is_translated_and_none_is_fuzzy():
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    untranslated = [
        block.splitlines()[-2] if block else block
        for block in _entries(text)
        if re.search(r'^msgstr(\[0\])? ""\n?$', block, re.M)
        and not re.search(r'^msgstr(\[0\])? ""\n"', block, re.M)
    ]
    assert "#, fuzzy" not in text.split("\n\n", 1)[1]
    assert untranslated == []


def test_compiled_catalogue_is_shipped():
    assert (CATALOGUE / "django.mo").stat().st_size > 10_000
