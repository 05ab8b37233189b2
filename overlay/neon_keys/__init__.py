"""neon_keys: create, list, revoke, rotate and audit Neon API keys.

    from neon_keys import NeonKeys

    with NeonKeys() as neon:              # NEON_API_KEY, NEON_API_HOST
        key = neon.personal_keys.create("ci")
        print(key.id, key.secret)         # the secret prints masked; key.secret.reveal() shows it

Names are loaded on first use, so ``import neon_keys`` (and the CLI's ``--help``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import RevokeOutcome, RevokeStatus
    from ._client import AsyncNeonKeys, NeonKeys
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        CreateOutcomeUnknownError,
        InsecureTransportError,
        InvalidInputError,
        LockedError,
        NeonError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        UnexpectedResponseError,
    )
    from ._lease_names import LeaseName
    from ._leases import AsyncLease, Lease, LeaseRevokeError
    from ._models import (
        APIKey,
        AuthDetails,
        Creator,
        KeyKind,
        Organization,
        OrgKey,
        PersonalKey,
        ProjectKey,
    )
    from ._pacing import RateLimits
    from ._resources import (
        AsyncOrg,
        AsyncOrgKeys,
        AsyncPersonalKeys,
        Org,
        OrgKeys,
        PersonalKeys,
    )
    from ._retry import Backoff
    from ._scope import AsyncKeyScope, KeyScope
    from ._secret import Secret

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APITimeoutError",
    "AsyncKeyScope",
    "AsyncLease",
    "AsyncNeonKeys",
    "AsyncOrg",
    "AsyncOrgKeys",
    "AsyncPersonalKeys",
    "AuthDetails",
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "Creator",
    "InsecureTransportError",
    "InvalidInputError",
    "KeyKind",
    "KeyScope",
    "Lease",
    "LeaseName",
    "LeaseRevokeError",
    "LockedError",
    "NeonError",
    "NeonKeys",
    "NotFoundError",
    "Org",
    "OrgKey",
    "OrgKeys",
    "Organization",
    "PermissionDeniedError",
    "PersonalKey",
    "PersonalKeys",
    "ProjectKey",
    "RateLimitError",
    "RateLimits",
    "RevokeOutcome",
    "RevokeStatus",
    "Secret",
    "ServerError",
    "UnexpectedResponseError",
    "__version__",
]

_HOMES = {
    "._bulk": ("RevokeOutcome", "RevokeStatus"),
    "._client": ("AsyncNeonKeys", "NeonKeys"),
    "._exceptions": (
        "APIConnectionError",
        "APIError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConfigurationError",
        "ConflictError",
        "CreateOutcomeUnknownError",
        "InsecureTransportError",
        "InvalidInputError",
        "LockedError",
        "NeonError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "ServerError",
        "UnexpectedResponseError",
    ),
    "._models": (
        "APIKey",
        "AuthDetails",
        "Creator",
        "KeyKind",
        "OrgKey",
        "Organization",
        "PersonalKey",
        "ProjectKey",
    ),
    "._resources": (
        "AsyncOrg",
        "AsyncOrgKeys",
        "AsyncPersonalKeys",
        "Org",
        "OrgKeys",
        "PersonalKeys",
    ),
    "._lease_names": ("LeaseName",),
    "._leases": ("AsyncLease", "Lease", "LeaseRevokeError"),
    "._pacing": ("RateLimits",),
    "._retry": ("Backoff",),
    "._scope": ("AsyncKeyScope", "KeyScope"),
    "._secret": ("Secret",),
}
__getattr__, __dir__ = lazy_names(__name__, globals(), _HOMES)
