"""The plugin's AWS Signature Version 4 signer against AWS's published test suite and Bedrock's path rules.

Vectors: AWS's SigV4 test suite (``aws-sig-v4-test-suite``: key ``AKIDEXAMPLE``, service ``service``, region
``us-east-1``, 2015-08-30T12:36:00Z), as shipped with the AWS SDKs, plus one case of the older suite (with
repeated query keys) from aws-cli's ``tests/unit/auth/aws4_testsuite``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hub_provider_bedrock import sigv4

from hub_core import Credential, UpstreamRequest

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "example.amazonaws.com"
DATE = "20150830T123600Z"
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
STS_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YU"
    "uwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6f"
    "E8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj"
    "2ICCR/oLxBA=="
)
UNRESERVED = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FORM = "application/x-www-form-urlencoded"

#: (name, method, path, query pairs, extra headers, body, signature)
VECTORS: list[tuple[str, str, str, list[tuple[str, str]], dict[str, str], bytes, str]] = [
    (
        "get-vanilla",
        "GET",
        "/",
        [],
        {},
        b"",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        "get-unreserved",
        "GET",
        "/" + UNRESERVED,
        [],
        {},
        b"",
        "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    ),
    (
        "get-utf8",
        "GET",
        "/ሴ",
        [],
        {},
        b"",
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    ),
    (
        "get-header-value-trim",
        "GET",
        "/",
        [],
        {"My-Header1": " value1", "My-Header2": ' "a   b   c"'},
        b"",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    (
        "get-vanilla-query-order-key-case",
        "GET",
        "/",
        [("Param2", "value2"), ("Param1", "value1")],
        {},
        b"",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    (
        "get-vanilla-query-unreserved",
        "GET",
        "/",
        [(UNRESERVED, UNRESERVED)],
        {},
        b"",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    ),
    (
        "get-vanilla-utf8-query",
        "GET",
        "/",
        [("ሴ", "bar")],
        {},
        b"",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    ),
    (
        "post-header-key-sort",
        "POST",
        "/",
        [],
        {"My-Header1": "value1"},
        b"",
        "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    ),
    (
        "post-header-value-case",
        "POST",
        "/",
        [],
        {"My-Header1": "VALUE1"},
        b"",
        "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    ),
    (
        "post-sts-header-before",
        "POST",
        "/",
        [],
        {"X-Amz-Security-Token": STS_TOKEN},
        b"",
        "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    ),
    (
        "post-vanilla",
        "POST",
        "/",
        [],
        {},
        b"",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ),
    (
        "post-vanilla-query",
        "POST",
        "/",
        [("Param1", "value1")],
        {},
        b"",
        "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
    ),
    (
        "post-vanilla-query-nonunreserved",
        "POST",
        "/",
        [("@#$%^", ""), ("+", '/,?><`";:\\|][{}')],
        {},
        b"",
        "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
    ),
    (
        "post-x-www-form-urlencoded",
        "POST",
        "/",
        [],
        {"Content-Type": FORM},
        b"Param1=value1",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    ),
    (
        "post-x-www-form-urlencoded-parameters",
        "POST",
        "/",
        [],
        {"Content-Type": FORM + "; charset=utf8"},
        b"Param1=value1",
        "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "extra", "body", "expected"),
    [v[1:] for v in VECTORS],
    ids=[v[0] for v in VECTORS],
)
def test_aws_sigv4_test_suite(
    method: str, path: str, query: list[tuple[str, str]], extra: dict[str, str], body: bytes, expected: str
) -> None:
    headers = {"Host": HOST, "X-Amz-Date": DATE, **extra}
    signature = sigv4.sigv4_signature(
        method=method,
        path=path,
        query=query,
        headers=headers,
        signed_headers=sorted(k.lower() for k in headers),
        payload_hash=hashlib.sha256(body).hexdigest(),
        secret=SECRET,
        amz_date=DATE,
        region="us-east-1",
        service="service",
    )
    assert signature == expected


def test_older_suite_repeated_query_keys_sort_by_value() -> None:
    """aws-cli's ``get-vanilla-query-order-key-case``: ``foo=Zoo&foo=aha`` (in byte order, ``Z`` < ``a``)."""
    headers = {"Date": "Mon, 09 Sep 2011 23:36:00 GMT", "Host": "host.foo.com"}
    query = [("foo", "aha"), ("foo", "Zoo")]
    assert sigv4.canonical_query(query) == "foo=Zoo&foo=aha"
    signature = sigv4.sigv4_signature(
        method="GET",
        path="/",
        query=query,
        headers=headers,
        signed_headers=["date", "host"],
        payload_hash=EMPTY_HASH,
        secret=SECRET,
        amz_date="20110909T233600Z",
        region="us-east-1",
        service="host",
    )
    assert signature == "be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09"


def test_canonical_request_as_published() -> None:
    """``get-vanilla-query-order-key-case.creq`` of the suite, line for line."""
    creq = sigv4.canonical_request(
        "GET",
        "/",
        [("Param2", "value2"), ("Param1", "value1")],
        {"Host": HOST, "X-Amz-Date": DATE},
        ["host", "x-amz-date"],
        EMPTY_HASH,
    )
    assert creq == "\n".join(
        [
            "GET",
            "/",
            "Param1=value1&Param2=value2",
            f"host:{HOST}",
            f"x-amz-date:{DATE}",
            "",
            "host;x-amz-date",
            EMPTY_HASH,
        ]
    )


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("20120215", "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"),
        ("20150830", "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"),
    ],
)
def test_signing_key_as_documented(date: str, expected: str) -> None:
    """The derived keys of AWS's documentation examples (the suite's secret, us-east-1, iam)."""
    assert sigv4.signing_key(SECRET, date, "us-east-1", "iam").hex() == expected


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [
        ("/model/us.amazon.nova-lite-v1:0/converse", "/model/us.amazon.nova-lite-v1%3A0/converse"),
        # what the AWS SDKs send for a model id: escaped once on the wire, signed escaped twice
        ("/model/anthropic.claude-v2%3A1/converse", "/model/anthropic.claude-v2%253A1/converse"),
        (
            "/model/arn:aws:bedrock:us-east-1:1:inference-profile%2Fus.x/converse-stream",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%252Fus.x/converse-stream",
        ),
    ],
)
def test_bedrock_paths_are_encoded_once_more(wire: str, canonical: str) -> None:
    assert sigv4.canonical_uri(wire) == canonical


def _request(**values: str) -> tuple[UpstreamRequest, Credential]:
    req = UpstreamRequest(
        "POST",
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/us.amazon.nova-lite-v1%3A0/converse",
        headers={"Content-Type": "application/json"},
        json={"messages": [{"role": "user", "content": [{"text": "grüß dich"}]}]},
    )
    cred = Credential(1, "k", {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, **values})
    return req, cred


def test_sign_request_serializes_the_body_and_signs_those_bytes() -> None:
    req, cred = _request()
    sigv4.sign_request(req, cred, "eu-west-1", now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert (
        req.json is None
        and req.body == '{"messages":[{"role":"user","content":[{"text":"grüß dich"}]}]}'.encode()
    )
    headers = req.headers
    assert headers["X-Amz-Content-Sha256"] == hashlib.sha256(req.body).hexdigest()
    assert (headers["Host"], headers["X-Amz-Date"]) == (
        "bedrock-runtime.eu-west-1.amazonaws.com",
        "20250102T030405Z",
    )
    assert "X-Amz-Security-Token" not in headers
    signed = "content-type;host;x-amz-content-sha256;x-amz-date"
    expected = sigv4.sigv4_signature(
        method="POST",
        path="/model/us.amazon.nova-lite-v1:0/converse",  # yarl (and so aiohttp) sends ':' unescaped
        query=[],
        headers=headers,
        signed_headers=signed.split(";"),
        payload_hash=headers["X-Amz-Content-Sha256"],
        secret=SECRET,
        amz_date="20250102T030405Z",
        region="eu-west-1",
        service="bedrock",
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/eu-west-1/bedrock/aws4_request, "
        f"SignedHeaders={signed}, Signature={expected}"
    )


def test_session_token_is_sent_and_signed_and_resigning_replaces_everything() -> None:
    req, cred = _request(session_token="TOKEN/+=")
    sigv4.sign_request(req, cred, "eu-west-1")
    assert req.headers["X-Amz-Security-Token"] == "TOKEN/+="
    assert "x-amz-date;x-amz-security-token, Signature=" in req.headers["Authorization"]
    _, plain = _request()
    sigv4.sign_request(req, plain, "eu-west-1")  # another attempt with a long-term key
    assert "X-Amz-Security-Token" not in req.headers
    assert "x-amz-security-token" not in req.headers["Authorization"]


def test_signatures_differ_by_region_secret_and_body() -> None:
    def auth(region: str = "eu-west-1", secret: str = SECRET, text: str = "hi") -> Any:
        req, cred = _request(secret_access_key=secret)
        req.json["messages"][0]["content"][0]["text"] = text
        sigv4.sign_request(req, cred, region, now=datetime(2025, 1, 2, tzinfo=UTC))
        return req.headers["Authorization"].rsplit("=", 1)[1]

    base = auth()
    assert len({base, auth(region="us-east-1"), auth(secret="other"), auth(text="ho")}) == 4
    assert auth() == base, "deterministic for the same inputs"
