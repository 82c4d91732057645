"""AWS Signature Version 4 for Bedrock's requests, over exactly the bytes and path aiohttp will send.

Only ``hashlib`` and ``hmac``: no AWS SDK. Checked against AWS's published SigV4 test suite
(``tests/test_sigv4.py``) and against the AWS SDK for JavaScript (``tests/test_aws_sdk.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from yarl import URL

from hub_core import Credential, UpstreamRequest

SERVICE = "bedrock"
#: headers the signature covers when present (the rest, e.g. Accept, may change in transit)
SIGNED_HEADERS = ("content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token")
SET_BY_SIGNING = frozenset({"authorization", *SIGNED_HEADERS} - {"content-type"})


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def uri_encode(value: str) -> str:
    """RFC 3986 encoding as SigV4 wants it: everything but the unreserved characters ``A-Za-z0-9-_.~``."""
    return quote(value, safe="-_.~")


def canonical_uri(path: str) -> str:
    """Each segment of the path as it travels, encoded once more (SigV4 for every service but S3): a model id
    sent as ``nova-lite-v1%3A0`` is signed as ``nova-lite-v1%253A0``, one sent as ``nova-lite-v1:0`` as
    ``nova-lite-v1%3A0``, which is what AWS computes from what it receives."""
    return "/".join(uri_encode(segment) for segment in (path or "/").split("/"))


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Encoded ``name=value`` pairs sorted by name, then value (repeated names stay)."""
    return "&".join(f"{k}={v}" for k, v in sorted((uri_encode(k), uri_encode(v)) for k, v in params))


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """The canonical request: header names lower-cased, values trimmed with inner runs of spaces folded."""
    lowered = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            "".join(f"{name}:{lowered[name]}\n" for name in signed_headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def sigv4_signature(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
    secret: str,
    amz_date: str,
    region: str,
    service: str,
) -> str:
    """The hex signature of a request; `path` is the path as it travels (percent-escapes included)."""
    creq = canonical_request(method, path, query, headers, signed_headers, payload_hash)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()]
    )
    key = signing_key(secret, amz_date[:8], region, service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign_request(
    upstream: UpstreamRequest,
    credential: Credential,
    region: str,
    now: datetime | None = None,
    service: str = SERVICE,
) -> None:
    """Sign in place over exactly what will be sent: the JSON body is serialized to bytes here (the HTTP
    client sends `body` as is), hashed into ``X-Amz-Content-Sha256``; ``Host``, ``X-Amz-Date`` and the session
    token are set, then ``Authorization``. Signing again (another attempt, another key) replaces all of it."""
    if upstream.body is None and upstream.json is not None:
        upstream.body = json.dumps(upstream.json, separators=(",", ":"), ensure_ascii=False).encode()
        upstream.json = None
    headers = upstream.headers
    for name in [k for k in headers if k.lower() in SET_BY_SIGNING]:
        del headers[name]  # whatever case an earlier signing or hook used: one value per header
    amz_date = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(upstream.body or b"").hexdigest()
    url = URL(upstream.url)  # what aiohttp will put on the wire (yarl normalizes some escapes)
    headers["Host"] = url.raw_authority
    headers["X-Amz-Date"] = amz_date
    headers["X-Amz-Content-Sha256"] = payload_hash
    if token := credential.values.get("session_token"):
        headers["X-Amz-Security-Token"] = token
    signed = sorted({k.lower() for k in headers} & set(SIGNED_HEADERS))
    query = [*url.query.items(), *upstream.params.items()]
    signature = sigv4_signature(
        method=upstream.method,
        path=url.raw_path,
        query=query,
        headers=headers,
        signed_headers=signed,
        payload_hash=payload_hash,
        secret=credential.values["secret_access_key"],
        amz_date=amz_date,
        region=region,
        service=service,
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential.values['access_key_id']}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
