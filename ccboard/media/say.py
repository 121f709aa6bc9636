"""Saying numbers, amounts of money, dates and times from recorded fragments, in English ('en')
and Mandarin ('cmn').

Each function returns the fragment names to play, in order; a PromptSet built from FRAGMENTS
(ccboard.media.tts does that with espeak-ng) has a prompt for every one of them.

  say_money(Decimal("1234.50"), "en")  -> one thousand two hundred and thirty four yuan fifty
  say_money(Decimal("1234.50"), "cmn") -> 一 千 二 百 三 十 四 元 五 角
Mandarin follows the usual reading rules: one 零 for any run of zeros inside a number, none at
the end; 十 (not 一十) at the start; 两 for a leading 2 before 千/万/亿 and for 2 元/角/点.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ccboard.media import MediaError

LANGUAGES = ("en", "cmn")

_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_EN_MONTHS = "January February March April May June July August September October November December".split()
_EN_ORD_ONES = (
    "_ first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()

_CMN_DIGITS = "零一二三四五六七八九"
_CMN_SMALL = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_CMN_BIG = ((10**8, "亿"), (10**4, "万"), (1, ""))


def _fragments_en() -> dict[str, str]:
    f = {w: w for w in _EN_ONES}
    f.update({w: w for w in _EN_TENS[2:]})
    f.update({"hundred": "hundred", "and": "and", "point": "point", "minus": "minus", "oh": "oh"})
    f.update({w: w for _, w in _EN_SCALES})
    f.update({"yuan": "yuan", "dollars": "dollars", "cents": "cents", "am": "A M", "pm": "P M"})
    f.update({"o_clock": "o'clock", "star": "star", "hash": "hash"})
    for m, name in enumerate(_EN_MONTHS, 1):
        f[f"month_{m}"] = name
    for d in range(1, 32):
        f[f"ord_{d}"] = _ordinal_text_en(d)
    return f


def _ordinal_text_en(d: int) -> str:
    if d < 20:
        return _EN_ORD_ONES[d]
    tens, ones = divmod(d, 10)
    if ones == 0:
        return _EN_TENS[tens][:-1] + "ieth"
    return f"{_EN_TENS[tens]} {_EN_ORD_ONES[ones]}"


def _fragments_cmn() -> dict[str, str]:
    f = {c: c for c in _CMN_DIGITS}
    for c in "十百千万亿两元角分年月日点负":
        f[c] = c
    f.update({"上午": "上午", "下午": "下午", "整": "整", "星号": "星号", "井号": "井号", "点_小数": "点"})
    return f


FRAGMENTS: dict[str, dict[str, str]] = {"en": _fragments_en(), "cmn": _fragments_cmn()}
"""Fragment name -> text to record (or synthesise), per language."""


def _check_lang(lang: str) -> None:
    if lang not in FRAGMENTS:
        raise MediaError(f"language {lang!r}: no fragments (known: {', '.join(LANGUAGES)})")


# -- numbers ---------------------------------------------------------------------------------------


def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    h, r = divmod(n, 100)
    if h:
        out += [_EN_ONES[h], "hundred"]
        if r:
            out.append("and")
    if r >= 20:
        t, o = divmod(r, 10)
        out.append(_EN_TENS[t])
        if o:
            out.append(_EN_ONES[o])
    elif r or not h:
        out.append(_EN_ONES[r])
    return out


def _en_number(n: int) -> list[str]:
    if n < 0:
        return ["minus", *_en_number(-n)]
    if n == 0:
        return ["zero"]
    out: list[str] = []
    for value, word in _EN_SCALES:
        q, n = divmod(n, value)
        if q:
            out += [*_en_number(q), word]
    if n:
        if out and n < 100:
            out.append("and")  # British: "one thousand and five"
        out += _en_below_1000(n)
    return out


def _cmn_section(n: int) -> list[str]:
    """0 < n < 10000, with one 零 for each inner run of zeros."""
    out: list[str] = []
    zero = False
    for value, unit in _CMN_SMALL:
        d = (n // value) % 10
        if d:
            if zero:
                out.append("零")
            out.append(_CMN_DIGITS[d])
            if unit:
                out.append(unit)
            zero = False
        elif out:
            zero = True
    return out


def _cmn_number(n: int) -> list[str]:
    if n < 0:
        return ["负", *_cmn_number(-n)]
    if n == 0:
        return ["零"]
    if n >= 10**12:
        raise MediaError(f"say_number: {n} is too large for Mandarin fragments (below 10^12)")
    out: list[str] = []
    zero = False
    for value, unit in _CMN_BIG:
        sec = (n // value) % 10000
        if not sec:
            if out:
                zero = True
            continue
        if out and (zero or sec < 1000):
            out.append("零")
        out += _cmn_section(sec)
        if unit:
            out.append(unit)
        zero = False
    if out[:2] == ["一", "十"]:
        out = out[1:]
    if len(out) > 1 and out[0] == "二" and out[1] in ("千", "万", "亿"):
        out[0] = "两"
    return out


def say_number(n: int, lang: str) -> list[str]:
    """Fragments for the integer n."""
    _check_lang(lang)
    if isinstance(n, bool) or not isinstance(n, int):
        raise MediaError(f"say_number: {n!r} is not an int")
    return _en_number(n) if lang == "en" else _cmn_number(n)


def say_digits(s: str, lang: str) -> list[str]:
    """Fragments for a digit string read one by one ('0' is 'zero' / 零; * and # by name)."""
    _check_lang(lang)
    out: list[str] = []
    for c in s:
        if c.isdigit():
            out.append(_EN_ONES[int(c)] if lang == "en" else _CMN_DIGITS[int(c)])
        elif c in "*#":
            out.append(("star" if c == "*" else "hash") if lang == "en" else ("星号" if c == "*" else "井号"))
        else:
            raise MediaError(f"say_digits: {c!r} in {s!r} is not a digit, * or #")
    return out


def _cents(amount: Decimal | int | str) -> int:
    try:
        d = Decimal(amount)
    except Exception:
        raise MediaError(f"say_money: {amount!r} is not an amount") from None
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def say_money(amount: Decimal | int | str, lang: str, currency: str = "CNY") -> list[str]:
    """Fragments for an amount in yuan (currency 'CNY') or dollars ('USD', English only), to the
    cent / fen: 'one thousand two hundred and thirty four yuan fifty' / 一千二百三十四元五角."""
    _check_lang(lang)
    cents = _cents(amount)
    neg, cents = cents < 0, abs(cents)
    major, minor = divmod(cents, 100)
    if lang == "en":
        out = ["minus"] if neg else []
        if currency == "USD":
            out += [*_en_number(major), "dollars"]
            if minor:
                out += ["and", *_en_number(minor), "cents"]
            return out
        if currency != "CNY":
            raise MediaError(f"say_money: currency {currency!r} is not CNY or USD")
        out += [*_en_number(major), "yuan"]
        if minor:
            out += _en_number(minor)
        return out
    if currency != "CNY":
        raise MediaError(f"say_money: Mandarin amounts are in CNY, not {currency!r}")
    jiao, fen = divmod(minor, 10)
    out = ["负"] if neg else []
    if major or not minor:
        out += ["两"] if major == 2 else _cmn_number(major)
        out.append("元")
    if jiao:
        out += ["两" if jiao == 2 else _CMN_DIGITS[jiao], "角"]
    if fen:
        if major and not jiao:
            out.append("零")
        out += [_CMN_DIGITS[fen], "分"]
    return out


def say_date(d: dt.date, lang: str) -> list[str]:
    """'March fifth, two thousand and twenty five' / 二零二五年三月五日."""
    _check_lang(lang)
    if lang == "en":
        y = d.year
        if 1100 <= y < 2000 or y >= 2100:
            hi, lo = divmod(y, 100)
            year = _en_number(hi) + (["hundred"] if lo == 0 else (["oh"] if lo < 10 else []) + _en_number(lo))
        else:
            year = _en_number(y)
        return [f"month_{d.month}", f"ord_{d.day}", *year]
    return [
        *(_CMN_DIGITS[int(c)] for c in str(d.year)),
        "年",
        *_cmn_number(d.month),
        "月",
        *_cmn_number(d.day),
        "日",
    ]


def say_time(t: dt.time, lang: str) -> list[str]:
    """12-hour clock: 'two oh five P M' / 下午两点零五分."""
    _check_lang(lang)
    h12 = t.hour % 12 or 12
    if lang == "en":
        out = _en_number(h12)
        if t.minute == 0:
            out.append("o_clock")
        else:
            if t.minute < 10:
                out.append("oh")
            out += _en_number(t.minute)
        return [*out, "pm" if t.hour >= 12 else "am"]
    out = ["下午" if t.hour >= 12 else "上午", *(["两"] if h12 == 2 else _cmn_number(h12)), "点"]
    if t.minute == 0:
        return [*out, "整"]
    if t.minute < 10:
        out.append("零")
    return [*out, *_cmn_number(t.minute), "分"]


def text(fragments: list[str], lang: str) -> str:
    """The fragments as text (for logs and tests): words joined by spaces, or characters."""
    table = FRAGMENTS[lang]
    words = [table.get(f, f) for f in fragments]
    return " ".join(words) if lang == "en" else "".join(words)
