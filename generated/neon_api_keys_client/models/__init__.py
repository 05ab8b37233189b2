""" Contains all the data models used in inputs/outputs """

from .api_key_create_request import ApiKeyCreateRequest
from .api_key_create_response import ApiKeyCreateResponse
from .api_key_creator_data import ApiKeyCreatorData
from .api_key_revoke_response import ApiKeyRevokeResponse
from .api_keys_list_response_item import ApiKeysListResponseItem
from .auth_details_response import AuthDetailsResponse
from .general_error import GeneralError
from .org_api_key_create_request import OrgApiKeyCreateRequest
from .org_api_key_create_response import OrgApiKeyCreateResponse
from .org_api_key_revoke_response import OrgApiKeyRevokeResponse
from .org_api_keys_list_response_item import OrgApiKeysListResponseItem
from .organization import Organization
from .organizations_response import OrganizationsResponse

__all__ = (
    "ApiKeyCreateRequest",
    "ApiKeyCreateResponse",
    "ApiKeyCreatorData",
    "ApiKeyRevokeResponse",
    "ApiKeysListResponseItem",
    "AuthDetailsResponse",
    "GeneralError",
    "Organization",
    "OrganizationsResponse",
    "OrgApiKeyCreateRequest",
    "OrgApiKeyCreateResponse",
    "OrgApiKeyRevokeResponse",
    "OrgApiKeysListResponseItem",
)
