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
from ._version import __version__ as __version__

# The names of _HOMES, for type checkers: ``import X as X`` marks a re-export, which a
# strict type checker needs to see, and keeps each module's names in one statement.
if TYPE_CHECKING:
    from ._bulk import (  # noqa: I001
        RevokeOutcome as RevokeOutcome,
        RevokeStatus as RevokeStatus,
    )
    from ._client import (
        AsyncNeonKeys as AsyncNeonKeys,
        NeonKeys as NeonKeys,
    )
    from ._command_sink import CommandSink as CommandSink
    from ._exceptions import (
        APIConnectionError as APIConnectionError,
        APIError as APIError,
        APITimeoutError as APITimeoutError,
        AuthenticationError as AuthenticationError,
        BadRequestError as BadRequestError,
        ConfigurationError as ConfigurationError,
        ConflictError as ConflictError,
        CreateOutcomeUnknownError as CreateOutcomeUnknownError,
        InsecureTransportError as InsecureTransportError,
        InvalidInputError as InvalidInputError,
        LockedError as LockedError,
        NeonError as NeonError,
        NotFoundError as NotFoundError,
        PermissionDeniedError as PermissionDeniedError,
        RateLimitError as RateLimitError,
        ServerError as ServerError,
        ServerTimeUnknownError as ServerTimeUnknownError,
        UnexpectedResponseError as UnexpectedResponseError,
    )
    from ._interrupts import (
        InterruptedCreate as InterruptedCreate,
        interrupted_create as interrupted_create,
    )
    from ._lease_names import LeaseName as LeaseName
    from ._leases import (
        AsyncLease as AsyncLease,
        Lease as Lease,
        LeaseRevokeError as LeaseRevokeError,
    )
    from ._models import (
        APIKey as APIKey,
        AuthDetails as AuthDetails,
        Creator as Creator,
        KeyKind as KeyKind,
        Organization as Organization,
        OrgKey as OrgKey,
        PersonalKey as PersonalKey,
        ProjectKey as ProjectKey,
    )
    from ._pacing import RateLimits as RateLimits
    from ._resources import (
        AsyncOrg as AsyncOrg,
        AsyncOrgKeys as AsyncOrgKeys,
        AsyncPersonalKeys as AsyncPersonalKeys,
        Org as Org,
        OrgKeys as OrgKeys,
        PersonalKeys as PersonalKeys,
    )
    from ._retire import (
        RetireOutcome as RetireOutcome,
        RetireReason as RetireReason,
        RetireStatus as RetireStatus,
    )
    from ._retry import Backoff as Backoff
    from ._rotation import (
        Delivery as Delivery,
        DeliveryStatus as DeliveryStatus,
        Rotation as Rotation,
        RotationError as RotationError,
        RotationStep as RotationStep,
        interrupted_rotation as interrupted_rotation,
    )
    from ._scope import (
        AsyncKeyScope as AsyncKeyScope,
        KeyScope as KeyScope,
    )
    from ._secret import Secret as Secret
    from ._sinks import (
        DotenvSink as DotenvSink,
        FileSink as FileSink,
        GitHubEnvSink as GitHubEnvSink,
        Sink as Sink,
        SinkError as SinkError,
        StdoutSink as StdoutSink,
        load_sink as load_sink,
    )
    from ._test_mode import (
        SkippedWaits as SkippedWaits,
        is_testing as is_testing,
        set_testing as set_testing,
    )

_HOMES = {
    "._bulk": (
        "RevokeOutcome",
        "RevokeStatus",
    ),
    "._client": (
        "AsyncNeonKeys",
        "NeonKeys",
    ),
    "._command_sink": ("CommandSink",),
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
        "ServerTimeUnknownError",
        "UnexpectedResponseError",
    ),
    "._interrupts": (
        "InterruptedCreate",
        "interrupted_create",
    ),
    "._lease_names": ("LeaseName",),
    "._leases": (
        "AsyncLease",
        "Lease",
        "LeaseRevokeError",
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
    "._pacing": ("RateLimits",),
    "._resources": (
        "AsyncOrg",
        "AsyncOrgKeys",
        "AsyncPersonalKeys",
        "Org",
        "OrgKeys",
        "PersonalKeys",
    ),
    "._retire": (
        "RetireOutcome",
        "RetireReason",
        "RetireStatus",
    ),
    "._retry": ("Backoff",),
    "._rotation": (
        "Delivery",
        "DeliveryStatus",
        "Rotation",
        "RotationError",
        "RotationStep",
        "interrupted_rotation",
    ),
    "._scope": (
        "AsyncKeyScope",
        "KeyScope",
    ),
    "._secret": ("Secret",),
    "._sinks": (
        "DotenvSink",
        "FileSink",
        "GitHubEnvSink",
        "Sink",
        "SinkError",
        "StdoutSink",
        "load_sink",
    ),
    "._test_mode": (
        "SkippedWaits",
        "is_testing",
        "set_testing",
    ),
}
"""Each private module and the public names it defines: the one list of the exports."""

__all__ = sorted([*(name for names in _HOMES.values() for name in names), "__version__"])  # noqa: PLE0605
__getattr__, __dir__ = lazy_names(__name__, globals(), _HOMES)
