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


def test_contact_keys_are_digests_of_normalised_values():
    from data_layer.identity import contact_keys, key_digest

    rec = {"custom_fields_values": [
        {"field_code": "PHONE", "values": [{"value": "+7 916 123-45-67"}, {"value": "8 916 1234567"}, {"value": "12"}]},
        {"field_code": "EMAIL", "values": [{"value": " A@B.ru"}, {"value": "broken"}]}, "not a dict"]}
    keys = contact_keys(rec, 5)
    assert {(k["kind"], k["value"]) for k in keys} == {("phone", key_digest("phone", "9161234567")),
                                                       ("email", key_digest("email", "a@b.ru"))}
    assert all("916" not in k["value"] for k in keys)  # the table matches clients, it never holds their numbers


def test_company_keys_read_the_named_field():
    from data_layer.identity import company_keys

    rec = {"custom_fields_values": [{"field_name": " инн ", "values": [{"value": "7707083893"}]},
                                    {"field_name": "ОКПО", "values": [{"value": "1234567890"}]}]}
    assert [k["kind"] for k in company_keys(rec, 1)] == ["inn"]
    assert company_keys(rec, 1, "ОКПО")[0]["value"] != company_keys(rec, 1)[0]["value"]
    assert company_keys({"custom_fields_values": None}, 1) == []
