from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.general_error import GeneralError
from ...models.org_api_key_revoke_response import OrgApiKeyRevokeResponse
from typing import cast



def _get_kwargs(
    org_id: str,
    key_id: int,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/organizations/{org_id}/api_keys/{key_id}".format(org_id=quote(str(org_id), safe=""),key_id=quote(str(key_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> GeneralError | OrgApiKeyRevokeResponse:
    if response.status_code == 200:
        response_200 = OrgApiKeyRevokeResponse.from_dict(response.json())



        return response_200

    response_default = GeneralError.from_dict(response.json())



    return response_default



def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[GeneralError | OrgApiKeyRevokeResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    org_id: str,
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> Response[GeneralError | OrgApiKeyRevokeResponse]:
    """ Revoke an organization API key

     Revokes an organization or project-scoped API key for good.

    Args:
        org_id (str):
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | OrgApiKeyRevokeResponse]
     """


    kwargs = _get_kwargs(
        org_id=org_id,
key_id=key_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org_id: str,
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> GeneralError | OrgApiKeyRevokeResponse | None:
    """ Revoke an organization API key

     Revokes an organization or project-scoped API key for good.

    Args:
        org_id (str):
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | OrgApiKeyRevokeResponse
     """


    return sync_detailed(
        org_id=org_id,
key_id=key_id,
client=client,

    ).parsed

async def asyncio_detailed(
    org_id: str,
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> Response[GeneralError | OrgApiKeyRevokeResponse]:
    """ Revoke an organization API key

     Revokes an organization or project-scoped API key for good.

    Args:
        org_id (str):
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | OrgApiKeyRevokeResponse]
     """


    kwargs = _get_kwargs(
        org_id=org_id,
key_id=key_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org_id: str,
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> GeneralError | OrgApiKeyRevokeResponse | None:
    """ Revoke an organization API key

     Revokes an organization or project-scoped API key for good.

    Args:
        org_id (str):
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | OrgApiKeyRevokeResponse
     """


    return (await asyncio_detailed(
        org_id=org_id,
key_id=key_id,
client=client,

    )).parsed
