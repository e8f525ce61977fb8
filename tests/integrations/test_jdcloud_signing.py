"""The gateway signature against the vectors produced with JD's official Python SDKs
(`shared/vectors/jdcloud_gateway_signing.json`): every one reproduced exactly."""

from datetime import UTC, datetime

import pytest

from portal.integrations.jdcloud.signing import (
    JDCLOUD2,
    JDCLOUD3,
    Credentials,
    parse_authorization,
    sign,
    verify,
)
from tests.vectors import load_vectors

VECTORS = load_vectors("jdcloud_gateway_signing.json")
CREDENTIALS = Credentials(VECTORS["access_key"], VECTORS["secret_key"])
NOW = datetime.fromtimestamp(VECTORS["fixed_epoch"], UTC)
NONCE = VECTORS["fixed_nonce"]


def _sign_case(case, headers, *, algorithm, service, region, signed_stamp):
    return sign(
        method=case["method"],
        url=case["url"],
        headers=headers,
        body=case["body"].encode("utf-8"),
        credentials=CREDENTIALS,
        service=service,
        region=region,
        algorithm=algorithm,
        now=NOW,
        nonce=NONCE,
        sign_date_and_nonce=signed_stamp,
    )


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"][:40])
def test_jdcloud3_vectors_from_jdcloud_sdk(case):
    sent = case.get("sent_headers") or case["output_headers"]
    signed_stamp = "input_headers" in case  # cases 3-4 supply date and nonce before signing
    headers = {"Content-Type": "application/json"}
    if "User-Agent" in sent:
        headers["User-Agent"] = sent["User-Agent"]

    result = _sign_case(
        case,
        headers,
        algorithm=JDCLOUD3,
        service=case["service"],
        region=case["region"],
        signed_stamp=signed_stamp,
    )

    assert result.canonical_request == case["canonical_request"]
    assert result.string_to_sign == case["string_to_sign"]
    assert result.headers["Authorization"] == sent["Authorization"]
    assert result.headers["x-jdcloud-content-sha256"] == sent["x-jdcloud-content-sha256"]
    assert result.headers[JDCLOUD3] == JDCLOUD3


@pytest.mark.parametrize(
    "case", VECTORS["legacy_jdcloud2_from_jdcloud_sdk_core_1_3_3"]["cases"], ids=["GET", "POST"]
)
def test_jdcloud2_vectors_from_legacy_sdk_core(case):
    expected = case["output_headers"]
    auth = parse_authorization(expected["Authorization"])

    result = _sign_case(
        case,
        {"Content-Type": "application/json"},
        algorithm=JDCLOUD2,
        service=auth.service,
        region=auth.region,
        signed_stamp=True,
    )

    assert result.headers["Authorization"] == expected["Authorization"]
    assert result.headers["x-jdcloud-date"] == expected["x-jdcloud-date"]
    assert result.headers["x-jdcloud-nonce"] == expected["x-jdcloud-nonce"]
    assert result.headers["x-jdcloud-content-sha256"] == expected["x-jdcloud-content-sha256"]


@pytest.mark.parametrize(
    "case",
    VECTORS["jdcloud2_from_jdcloud_apim_sdk_core_2_0_2_SimpleClient"]["cases"],
    ids=["GET", "POST"],
)
def test_jdcloud2_vectors_from_the_api_gateway_sdk_core(case):
    expected = case["headers"]

    result = _sign_case(
        case,
        {"User-Agent": expected["User-Agent"], "Content-Type": "application/json"},
        algorithm=JDCLOUD2,
        service="simpleclient",
        region="jdcloud-api",
        signed_stamp=True,
    )

    assert result.headers["Authorization"] == expected["Authorization"]


def test_verify_accepts_a_good_signature_and_rejects_a_wrong_secret():
    case = VECTORS["jdcloud2_from_jdcloud_apim_sdk_core_2_0_2_SimpleClient"]["cases"][1]
    headers = case["headers"]
    body = case["body"].encode("utf-8")

    auth = verify(
        method="POST",
        url=case["url"],
        headers=headers,
        body=body,
        secret_for={CREDENTIALS.access_key: CREDENTIALS.secret_key},
    )
    assert auth.access_key == CREDENTIALS.access_key

    with pytest.raises(ValueError, match="signature does not match"):
        verify(
            method="POST",
            url=case["url"],
            headers=headers,
            body=body,
            secret_for={CREDENTIALS.access_key: "not-the-secret"},
        )
    with pytest.raises(ValueError, match="signature does not match"):
        verify(
            method="POST",
            url=case["url"],
            headers=headers,
            body=body.replace(b"abc", b"abd"),
            secret_for={CREDENTIALS.access_key: CREDENTIALS.secret_key},
        )


def test_credentials_never_print_the_secret():
    assert "TESTSK" not in repr(CREDENTIALS)
