from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.general_error import GeneralError
from ...models.org_api_keys_list_response_item import OrgApiKeysListResponseItem
from typing import cast



def _get_kwargs(
    org_id: str,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/organizations/{org_id}/api_keys".format(org_id=quote(str(org_id), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> GeneralError | list[OrgApiKeysListResponseItem]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in (_response_200):
            response_200_item = OrgApiKeysListResponseItem.from_dict(response_200_item_data)



            response_200.append(response_200_item)

        return response_200

    response_default = GeneralError.from_dict(response.json())



    return response_default



def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[GeneralError | list[OrgApiKeysListResponseItem]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,

) -> Response[GeneralError | list[OrgApiKeysListResponseItem]]:
    """ List the API keys of an organization

     Lists an organization's API keys, project-scoped ones included. Tokens are never included.

    Args:
        org_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | list[OrgApiKeysListResponseItem]]
     """


    kwargs = _get_kwargs(
        org_id=org_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,

) -> GeneralError | list[OrgApiKeysListResponseItem] | None:
    """ List the API keys of an organization

     Lists an organization's API keys, project-scoped ones included. Tokens are never included.

    Args:
        org_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | list[OrgApiKeysListResponseItem]
     """


    return sync_detailed(
        org_id=org_id,
client=client,

    ).parsed

async def asyncio_detailed(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,

) -> Response[GeneralError | list[OrgApiKeysListResponseItem]]:
    """ List the API keys of an organization

     Lists an organization's API keys, project-scoped ones included. Tokens are never included.

    Args:
        org_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | list[OrgApiKeysListResponseItem]]
     """


    kwargs = _get_kwargs(
        org_id=org_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,

) -> GeneralError | list[OrgApiKeysListResponseItem] | None:
    """ List the API keys of an organization

     Lists an organization's API keys, project-scoped ones included. Tokens are never included.

    Args:
        org_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | list[OrgApiKeysListResponseItem]
     """


    return (await asyncio_detailed(
        org_id=org_id,
client=client,

    )).parsed
