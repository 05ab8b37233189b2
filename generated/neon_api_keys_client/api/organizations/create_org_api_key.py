from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.general_error import GeneralError
from ...models.org_api_key_create_request import OrgApiKeyCreateRequest
from ...models.org_api_key_create_response import OrgApiKeyCreateResponse
from typing import cast



def _get_kwargs(
    org_id: str,
    *,
    body: OrgApiKeyCreateRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/organizations/{org_id}/api_keys".format(org_id=quote(str(org_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> GeneralError | OrgApiKeyCreateResponse:
    if response.status_code == 200:
        response_200 = OrgApiKeyCreateResponse.from_dict(response.json())



        return response_200

    response_default = GeneralError.from_dict(response.json())



    return response_default



def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[GeneralError | OrgApiKeyCreateResponse]:
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
    body: OrgApiKeyCreateRequest,

) -> Response[GeneralError | OrgApiKeyCreateResponse]:
    """ Create an organization API key

     Creates an organization API key; with a project_id, a key scoped to that one project.
    The token is in this response and nowhere else.

    Args:
        org_id (str):
        body (OrgApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | OrgApiKeyCreateResponse]
     """


    kwargs = _get_kwargs(
        org_id=org_id,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: OrgApiKeyCreateRequest,

) -> GeneralError | OrgApiKeyCreateResponse | None:
    """ Create an organization API key

     Creates an organization API key; with a project_id, a key scoped to that one project.
    The token is in this response and nowhere else.

    Args:
        org_id (str):
        body (OrgApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | OrgApiKeyCreateResponse
     """


    return sync_detailed(
        org_id=org_id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: OrgApiKeyCreateRequest,

) -> Response[GeneralError | OrgApiKeyCreateResponse]:
    """ Create an organization API key

     Creates an organization API key; with a project_id, a key scoped to that one project.
    The token is in this response and nowhere else.

    Args:
        org_id (str):
        body (OrgApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GeneralError | OrgApiKeyCreateResponse]
     """


    kwargs = _get_kwargs(
        org_id=org_id,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: OrgApiKeyCreateRequest,

) -> GeneralError | OrgApiKeyCreateResponse | None:
    """ Create an organization API key

     Creates an organization API key; with a project_id, a key scoped to that one project.
    The token is in this response and nowhere else.

    Args:
        org_id (str):
        body (OrgApiKeyCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GeneralError | OrgApiKeyCreateResponse
     """


    return (await asyncio_detailed(
        org_id=org_id,
client=client,
body=body,

    )).parsed
