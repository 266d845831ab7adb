"""Phone, e-mail and INN normalisation: one form per client identifier, malformed values never match."""

import pytest

from data_layer.identity import normalise_email, normalise_inn, normalise_phone


@pytest.mark.parametrize("raw", ["+7 (916) 123-45-67", "8 916 123 45 67", "89161234567", "9161234567", "+79161234567"])
def test_russian_phone_formats_are_one_form(raw):
    assert normalise_phone(raw) == "9161234567"


@pytest.mark.parametrize("raw", ["", "123", "ext. 45", None, 79161234567, "+7 916"])
def test_malformed_phone_is_none(raw):
    assert normalise_phone(raw) is None


def test_email_trimmed_and_lower_cased():
    assert normalise_email("  Ivan.Petrov@Example.RU ") == "ivan.petrov@example.ru"


@pytest.mark.parametrize("raw", ["", "no-at-sign", "@example.ru", "a@", "a@b@c", None, "a b@c.ru"])
def test_malformed_email_is_none(raw):
    assert normalise_email(raw) is None


@pytest.mark.parametrize(("raw", "want"), [("7707083893", "7707083893"), (" 7707 083-893 ", "7707083893"),
                                           ("500100732259", "500100732259"), (7707083893, "7707083893")])
def test_inn_digits_of_valid_length(raw, want):
    assert normalise_inn(raw) == want


@pytest.mark.parametrize("raw", ["123", "77070838931", "77O7083893", "", None, True, "1234567890123"])
def test_malformed_inn_is_none(raw):
    assert normalise_inn(raw) is None
