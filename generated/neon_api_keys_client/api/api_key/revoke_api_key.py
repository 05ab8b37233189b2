from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.api_key_revoke_response import ApiKeyRevokeResponse
from ...models.general_error import GeneralError
from typing import cast



def _get_kwargs(
    key_id: int,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api_keys/{key_id}".format(key_id=quote(str(key_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ApiKeyRevokeResponse | GeneralError:
    if response.status_code == 200:
        response_200 = ApiKeyRevokeResponse.from_dict(response.json())



        return response_200

    response_default = GeneralError.from_dict(response.json())



    return response_default



def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ApiKeyRevokeResponse | GeneralError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> Response[ApiKeyRevokeResponse | GeneralError]:
    """ Revoke a personal API key

     Revokes a personal API key for good.

    Args:
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKeyRevokeResponse | GeneralError]
     """


    kwargs = _get_kwargs(
        key_id=key_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> ApiKeyRevokeResponse | GeneralError | None:
    """ Revoke a personal API key

     Revokes a personal API key for good.

    Args:
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKeyRevokeResponse | GeneralError
     """


    return sync_detailed(
        key_id=key_id,
client=client,

    ).parsed

async def asyncio_detailed(
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> Response[ApiKeyRevokeResponse | GeneralError]:
    """ Revoke a personal API key

     Revokes a personal API key for good.

    Args:
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKeyRevokeResponse | GeneralError]
     """


    kwargs = _get_kwargs(
        key_id=key_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    key_id: int,
    *,
    client: AuthenticatedClient | Client,

) -> ApiKeyRevokeResponse | GeneralError | None:
    """ Revoke a personal API key

     Revokes a personal API key for good.

    Args:
        key_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKeyRevokeResponse | GeneralError
     """


    return (await asyncio_detailed(
        key_id=key_id,
client=client,

    )).parsed
