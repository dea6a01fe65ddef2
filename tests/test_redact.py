"""What secrets look like, and how they are masked wherever something is shown."""

from __future__ import annotations

import pytest

from tocsin import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://discord.com/api/webhooks/123456789012345678/AbCdEf-ghIJKL_1234567890abcdefGH",
            "https://discord.com/api/webhooks/123456789012345678/****",
        ),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/****/****/****",
        ),
        (
            "https://probe:hunter22@status.example:8443/health?api_key=abc123&verbose=1#top",
            "https://probe:****@status.example:8443/health?api_key=****&verbose=****#****",
        ),
        ("https://T0KEN@api.example/v1/items", "https://****@api.example/v1/items"),
        ("https://hc-ping.com/3f7d2a90-5c1e-4b8a-a6d4-9e0b7c215f43", "https://hc-ping.com/****"),
        ("postgresql://app:s3cr3tpass@db/shop", "postgresql://app:****@db/shop"),
        (
            "postgresql+psycopg://postgres@db:5432/shop",
            "postgresql+psycopg://postgres@db:5432/shop",
        ),
        ("sqlite:///tocsin.db", "sqlite:///tocsin.db"),
        ("http://prometheus:9090/api/v1/query", "http://prometheus:9090/api/v1/query"),
        ("not a url at all", "not a url at all"),
    ],
)
def test_a_url_keeps_what_locates_it_and_masks_what_opens_it(url: str, shown: str) -> None:
    assert redact.url(url) == shown


def test_text_masks_urls_known_secrets_credentials_and_values_named_like_secrets() -> None:
    said = (
        'failed: {"routing_key": "R0UTE-me", "message": "no"} at https://u:pw@h.example/x?k=v '
        "Authorization: Bearer abcdef123456 password=hunter22 monkey=banana (also my-own-s3cret)"
    )

    shown = redact.text(said, ["my-own-s3cret"])

    assert shown == (
        'failed: {"routing_key": "****", "message": "no"} at https://u:****@h.example/x?k=**** '
        "Authorization: **** **** password=**** monkey=banana (also ****)"
    )


@pytest.mark.parametrize(
    "name", ["routing_key", "X-Api-Key", "apiKey", "accessToken", "Authorization", "password"]
)
def test_names_that_say_secret(name: str) -> None:
    assert redact.is_secret_name(name)


@pytest.mark.parametrize("name", ["monkey", "signal", "author", "keep_pings", "message"])
def test_names_that_merely_contain_a_secret_word(name: str) -> None:
    assert not redact.is_secret_name(name)


def test_a_request_carries_the_secrets_of_its_url_credentials_headers_and_body() -> None:
    found = redact.request_secrets(
        "https://u:pw12@h.example/hooks/T0K3N-s3cr3t?format=json&token=t0k",
        json={"routing_key": "R0UTE", "payload": {"summary": "fine"}},
        headers={"Authorization": "Bearer b34rer", "X-Team": "ops"},
        auth=("AC1", "tw1l10"),
    )

    assert set(found) == {
        "u", "pw12", "T0K3N-s3cr3t", "t0k", "R0UTE", "Bearer b34rer", "b34rer", "tw1l10",
        "QUMxOnR3MWwxMA==",
    }  # fmt: skip
