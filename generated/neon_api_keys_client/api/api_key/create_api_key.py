from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.api_key_create_request import ApiKeyCreateRequest
from ...models.api_key_create_response import ApiKeyCreateResponse
from ...models.general_error import GeneralError
from typing import cast



def _get_kwargs(
    *,
    body: ApiKeyCreateRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api_keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ApiKeyCreateResponse | GeneralError:
    if response.status_code == 200:
        response_200 = ApiKeyCreateResponse.from_dict(response.json())



        return response_200

    response_default = GeneralError.from_dict(response.json())



    return response_default



def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ApiKeyCreateResponse | GeneralError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreateRequest,

) -> Response[ApiKeyCreateResponse | GeneralError]:
    """ Create a personal API key

     Creates a personal API key. The token is in this response and nowhere else.

    Args:
        body (ApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKeyCreateResponse | GeneralError]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreateRequest,

) -> ApiKeyCreateResponse | GeneralError | None:
    """ Create a personal API key

     Creates a personal API key. The token is in this response and nowhere else.

    Args:
        body (ApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKeyCreateResponse | GeneralError
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreateRequest,

) -> Response[ApiKeyCreateResponse | GeneralError]:
    """ Create a personal API key

     Creates a personal API key. The token is in this response and nowhere else.

    Args:
        body (ApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiKeyCreateResponse | GeneralError]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreateRequest,

) -> ApiKeyCreateResponse | GeneralError | None:
    """ Create a personal API key

     Creates a personal API key. The token is in this response and nowhere else.

    Args:
        body (ApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiKeyCreateResponse | GeneralError
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
