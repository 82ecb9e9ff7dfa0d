"""idpbridge client for Python host products: the standard library plus PyJWT.

The Python counterpart of ``@idpbridge/client`` (clients/node) for the calls a host product makes:

* ``authorize(base_url, tenant_id, bearer, dataset)`` -- ``POST /v1/{tenantId}/authorize``
* ``me(base_url, tenant_id, bearer)`` -- ``GET /v1/{tenantId}/me``
* ``verify_webhook(secrets, headers, body, tolerance=300)`` -- the ``idpbridge-signature`` header
* ``verify_token(token, jwks_url, issuer, audience)`` -- idpbridge's sign-in token (needs PyJWT)

``bearer`` is the end user's IdP access token or an identity API key (``idpb_key_...``). A "no" from
``authorize`` is an answer (``{"allowed": False, "reason": ...}``); a non-2xx status raises
``IdpbridgeError`` with ``status`` and ``code`` (401 = sign in again, 503 = try again).

Works on Python 3.8+. PyJWT with cryptography (Debian: ``python3-jwt python3-cryptography``; pip:
``pyjwt[crypto]``) is imported only by ``verify_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Mapping, Optional, Union

__all__ = [
    "SIGNATURE_HEADER",
    "TOKEN_ALGORITHMS",
    "IdpbridgeError",
    "TokenVerificationError",
    "authorize",
    "me",
    "verify_webhook",
    "verify_token",
]

SIGNATURE_HEADER = "idpbridge-signature"
#: The algorithms idpbridge signs its tokens with (IDPBRIDGE_SSO_KEY_ALG); nothing else is accepted.
TOKEN_ALGORITHMS = ["ES256", "RS256"]


class IdpbridgeError(Exception):
    """A non-2xx answer from idpbridge: HTTP ``status``, the error ``code`` (e.g. ERR_TOKEN_EXPIRED) and the parsed ``body``."""

    def __init__(self, status: int, code: Optional[str], message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


class TokenVerificationError(Exception):
    """The sign-in token was refused (bad signature, wrong issuer or audience, expired, unknown key ...)."""


# --------------------------------------------------------------------------------------------- /v1


def _call(base_url: str, method: str, path: str, bearer: str, body: Any = None, timeout: float = 10.0) -> Any:
    url = base_url.rstrip("/") + path
    headers = {"Accept": "application/json", "Authorization": "Bearer " + bearer}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            text = res.read().decode("utf-8")
            return json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        code = parsed.get("code") if isinstance(parsed, dict) else None
        detail = parsed.get("message") if isinstance(parsed, dict) else None
        msg = "%s %s -> %d%s" % (method, path, err.code, ": " + detail if detail else "")
        raise IdpbridgeError(err.code, code, msg, parsed) from None


def _tenant_path(tenant_id: str, rest: str) -> str:
    return "/v1/" + urllib.parse.quote(tenant_id, safe="") + rest


def authorize(base_url: str, tenant_id: str, bearer: str, dataset: str, timeout: float = 10.0) -> Dict[str, Any]:
    """May the bearer's identity use this dataset (id, externalId or name)?

    Returns ``{"allowed": bool, "reason": ..., "message": ..., "dataset"?: ..., "identity"?: ...}``.
    ``reason`` is granted, not_granted, dataset_not_found, identity_not_found or identity_suspended.
    """
    return _call(base_url, "POST", _tenant_path(tenant_id, "/authorize"), bearer, {"dataset": dataset}, timeout)


def me(base_url: str, tenant_id: str, bearer: str, timeout: float = 10.0) -> Dict[str, Any]:
    """The bearer's identity, groups, access groups, datasets, roles and credential."""
    return _call(base_url, "GET", _tenant_path(tenant_id, "/me"), bearer, None, timeout)


# ---------------------------------------------------------------------------------------- webhooks


def _signature_header(headers: Union[Mapping[str, Any], str, None]) -> Optional[str]:
    if headers is None or isinstance(headers, str):
        return headers
    for key, value in headers.items():  # header names are case-insensitive
        if str(key).lower() == SIGNATURE_HEADER:
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def verify_webhook(
    secrets: Union[str, Iterable[str]],
    headers: Union[Mapping[str, Any], str, None],
    body: Union[bytes, str],
    tolerance: int = 300,
    now: Optional[float] = None,
) -> bool:
    """True when the delivery is signed by one of ``secrets`` and its timestamp is within ``tolerance`` seconds.

    ``headers``: the request's headers (any mapping; the lookup of ``idpbridge-signature`` ignores
    case) or the header's value itself. ``body``: the raw request body exactly as received (bytes,
    before any JSON parsing). The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``;
    several ``v1`` values may be present while a secret is rotated, any one that matches is enough.
    Pass a list of secrets to accept the old and the new one during your own rotation.
    """
    header = _signature_header(headers)
    if not header:
        return False
    if isinstance(secrets, str):
        secrets = [secrets]
    t: Optional[str] = None
    signatures = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            t = value
        elif key == "v1" and value:
            signatures.append(value.encode("utf-8"))
    if t is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - int(t)) > tolerance:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    signed = t.encode("ascii") + b"." + raw
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode("ascii")
        for sig in signatures:
            # Every comparison runs (no early exit), each in constant time.
            ok = hmac.compare_digest(sig, expected) or ok
    return ok


# ------------------------------------------------------------------------------ sign-in tokens


_jwk_clients: Dict[str, Any] = {}
_jwk_lock = threading.Lock()


def _jwk_client(jwks_url: str) -> Any:
    import jwt  # PyJWT

    with _jwk_lock:
        client = _jwk_clients.get(jwks_url)
        if client is None:
            # Caches the key set for 5 minutes; an unknown kid (a key rotated in) refetches it once.
            client = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=300)
            _jwk_clients[jwks_url] = client
        return client


def verify_token(token: str, jwks_url: str, issuer: str, audience: str, leeway: int = 30) -> Dict[str, Any]:
    """Verifies the token idpbridge hands the host product after sign-in; returns its claims.

    ``jwks_url``: idpbridge's keys (``jwksUrl`` of ``GET /admin/v1/tenants/{id}/sso``, i.e.
    ``<idpbridge>/.well-known/jwks.json``). ``issuer`` and ``audience`` are required and compared
    exactly (``issuer`` / your registered redirect URI). Only ES256 and RS256 are accepted; exp, iat,
    iss, aud and sub must be present. Raises ``TokenVerificationError``.
    Claims: sub (identity id), tenant, identity, groups, accessGroups, datasets, roles, amr, ...
    """
    if not issuer or not audience:
        raise ValueError("issuer and audience are required")
    import jwt  # PyJWT

    try:
        key = _jwk_client(jwks_url).get_signing_key_from_jwt(token).key
        return jwt.decode(
            token,
            key,
            algorithms=TOKEN_ALGORITHMS,
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, ValueError) as err:  # PyJWKClientError is a PyJWTError
        raise TokenVerificationError(str(err)) from None
