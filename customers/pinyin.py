"""The pinyin of customer names, so that an RM can find 王小明 by typing "wangxiaoming",
"wang xiao" or just the initials "wxm" on a Latin keyboard.

`name_pinyin` turns a name into the search tokens stored in `Customer.name_pinyin`, each
preceded by a space: the full pinyin, the given name's pinyin (for personal names) and the
initials, plus the surname reading of the first character where it differs from its common
reading (曾 is "zeng" as a surname, "ceng" elsewhere). The customer list matches a typed key
against the start of any token (`LIKE '% key%'`), which a trigram index serves.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

__all__ = ["MAX_LENGTH", "name_pinyin", "pinyin_search_key"]

MAX_LENGTH = 1000
MAX_TOKEN_LENGTH = 300  # nobody types more; longer names keep the start of each token
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
# Characters read differently as a surname than in ordinary words (the common ones).
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "翟": "zhai",
    "盖": "ge",
    "员": "yun",
    "种": "chong",
    "秘": "bi",
    "召": "shao",
    "宿": "su",
    "繁": "po",
    "尉": "wei",
    "折": "she",
}
# A personal name is two to four characters; the given name is worth a token of its own.
PERSONAL_NAME_LENGTH = range(2, 5)
_LATIN = "\x00"  # marks a run of non-Chinese text in pypinyin's output
# Search keys: letters only, at least two (one letter would match most of the book).
MIN_KEY_LENGTH = 2
KEY_SEPARATORS = re.compile(r"[\s'’·-]+")


@lru_cache(maxsize=65_536)
def name_pinyin(name: str) -> str:
    """The search tokens of `name`, e.g. " wangxiaoming xiaoming wxm" for 王小明.

    Empty for a name without Chinese characters: such a name is searched as it is written.
    Latin parts of a mixed name ("ABC科技") are kept whole in every token ("abckeji",
    "abckj"). Deterministic and pure, so migrations and bulk loads may call it.
    """
    if not name or not HAN.search(name):
        return ""
    syllables: list[tuple[str, bool]] = []  # (text, is_chinese)
    for item in lazy_pinyin(name, errors=lambda text: [_LATIN + text]):
        latin = item.startswith(_LATIN)
        text = NOT_ALPHANUMERIC.sub("", item.lower())
        if text:
            syllables.append((text, not latin))
    if not syllables:
        return ""
    readings = [syllables]
    first = name.strip()[:1]
    surname = SURNAME_READINGS.get(first)
    if surname and syllables[0] != (surname, True):
        readings.append([(surname, True), *syllables[1:]])
    tokens: list[str] = []
    personal = len(name.strip()) in PERSONAL_NAME_LENGTH and all(han for _t, han in syllables)
    for reading in readings:
        tokens.append("".join(text for text, _han in reading))
        if personal and reading is syllables and len(reading) > 1:
            tokens.append("".join(text for text, _han in reading[1:]))
        tokens.append("".join(text[0] if han else text for text, han in reading))
    unique = list(dict.fromkeys(token[:MAX_TOKEN_LENGTH] for token in tokens))
    value = ""
    for token in unique:
        if len(value) + 1 + len(token) > MAX_LENGTH:
            break
        value += " " + token
    return value


def pinyin_search_key(term: str) -> str | None:
    """The typed search term as a key for `name_pinyin` ("Wang Xiao" -> "wangxiao"), or
    None when the term is not pinyin (digits, Chinese, a single letter)."""
    key = KEY_SEPARATORS.sub("", term).lower()
    if len(key) < MIN_KEY_LENGTH or not key.isascii() or not key.isalpha():
        return None
    return key
