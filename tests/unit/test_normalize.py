"""Normalisation: what the user writes and what Vault returns compare equal when they mean the same."""

import pytest

from ansible_collections.dynamic_secrets.vault.plugins.module_utils._normalize import (
    normalize,
    ttl_seconds,
)


@pytest.mark.parametrize(
    "value, seconds",
    [(3600, 3600), ("3600", 3600), ("1h", 3600), ("60m", 3600), ("1h30m", 5400), ("30s", 30),
     ("24h", 86400), ("1d", 86400), ("", 0), (None, 0), (0, 0), ("1500ms", 1)],
)
def test_ttl_strings_and_seconds_are_the_same_duration(value, seconds):
    assert ttl_seconds(value) == seconds


@pytest.mark.parametrize("value", ["soon", "1 hour", "h1", "1x", "-5", True, -1, "1h soon"])
def test_ttl_that_vault_would_refuse_is_rejected(value):
    with pytest.raises(ValueError):
        ttl_seconds(value)


def test_a_statement_string_equals_a_one_item_list():
    assert normalize("statements", "CREATE ROLE x;") == normalize("statements", ["CREATE ROLE x;"])
    assert normalize("statements", ["  a; ", "b;"]) == ["a;", "b;"]
    assert normalize("statements", None) == []


def test_statement_order_matters():
    assert normalize("statements", ["a", "b"]) != normalize("statements", ["b", "a"])


def test_set_like_lists_ignore_order_duplicates_and_commas():
    assert normalize("set", ["rw", "ro", "ro"]) == normalize("set", "ro,rw") == ["ro", "rw"]
    assert normalize("set", None) == normalize("set", []) == []


def test_text_ignores_line_endings_and_trailing_blanks():
    assert normalize("text", 'path "a" {\r\n  x = 1   \r\n}\n\n') == normalize("text", 'path "a" {\n  x = 1\n}')
    assert normalize("text", "a\n b") != normalize("text", "a\nb")


def test_ints_and_bools_read_back_as_strings_compare_equal():
    assert normalize("int", "5") == normalize("int", 5) == 5
    assert normalize("bool", "true") is True
    assert normalize("bool", None) is False
    with pytest.raises(ValueError):
        normalize("int", "five")
