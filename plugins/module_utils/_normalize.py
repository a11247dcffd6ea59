# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn what the user wrote and what Vault returns into one comparable form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six import string_types

_TTL_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TTL_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h|d)")


def ttl_seconds(value):
    """``"1h"``, ``"90m"``, ``"1h30m"``, ``3600`` and ``"3600"`` -> seconds (int).

    Raises ValueError for anything Vault would not accept as a duration.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 3600, '1h' or '30m', got a boolean")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return int(value)
    text = str(value).strip().lower()
    if re.match(r"^\d+$", text):
        return int(text)
    pos = 0
    total = 0.0
    for match in _TTL_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _TTL_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(
            "%r is not a duration: use seconds (3600) or a number with a unit (30s, 15m, 1h, 1h30m, 7d)" % (value,)
        )
    return int(total)


def to_bool(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise ValueError("%r is not a boolean" % (value,))


def to_int(value):
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("%r is not an integer" % (value,))


def to_list(value):
    """A string is a one-item list; None is empty; order is kept."""
    if value is None or value == "":
        return []
    if isinstance(value, string_types):
        return [value]
    return list(value)


def to_set(value):
    """Set-like lists: order and duplicates do not matter; "a,b" == ["a", "b"]."""
    if value is None or value == "":
        return []
    if isinstance(value, string_types):
        value = value.split(",")
    items = []
    for item in value:
        items.extend(str(item).split(",") if isinstance(item, string_types) else [str(item)])
    return sorted(set(item.strip() for item in items if item.strip()))


def to_statements(value):
    """SQL statements: a string equals a one-item list; surrounding blanks ignored."""
    return [str(item).strip() for item in to_list(value) if str(item).strip()]


def to_text(value):
    """Multi-line text (HCL, PEM): line endings and trailing blanks ignored."""
    if value is None:
        return ""
    lines = str(value).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def to_str(value):
    if value is None:
        return ""
    return str(value)


URL_PASSWORD_MASK = "********"


def url_password(value):
    """The password written into a URL's userinfo, or None (also for a ``{{password}}`` placeholder)."""
    if not value:
        return None
    text = str(value)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return None
    userinfo, at, _host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    password = userinfo.split(":", 1)[1]
    if not password or ("{{" in password and "}}" in password):
        return None
    return password


def to_redacted_url(value):
    """A connection URL with its embedded password masked.

    Vault never returns that password (it reads back as ``*****`` or ``xxxxx``), so
    both sides are compared, shown and reported with the password part masked.
    """
    text = to_str(value)
    password = url_password(text)
    if password is None:
        return text
    scheme, _sep, rest = text.partition("://")
    userinfo, _at, host = rest.rpartition("@")
    return "%s://%s:%s@%s" % (scheme, userinfo.split(":", 1)[0], URL_PASSWORD_MASK, host)


NORMALIZERS = {
    "str": to_str,
    "bool": to_bool,
    "int": to_int,
    "ttl": ttl_seconds,
    "list": lambda v: [to_str(i) for i in to_list(v)],
    "set": to_set,
    "statements": to_statements,
    "text": to_text,
    "url": to_redacted_url,
}


def normalize(kind, value):
    return NORMALIZERS[kind](value)
