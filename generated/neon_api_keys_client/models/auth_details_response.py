from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="AuthDetailsResponse")



@_attrs_define
class AuthDetailsResponse:
    """ 
        Attributes:
            account_id (str):
            auth_method (str):
            auth_data (str | Unset):
     """

    account_id: str
    auth_method: str
    auth_data: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        account_id = self.account_id

        auth_method = self.auth_method

        auth_data = self.auth_data


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "account_id": account_id,
            "auth_method": auth_method,
        })
        if auth_data is not UNSET:
            field_dict["auth_data"] = auth_data

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = d.pop("account_id")

        auth_method = d.pop("auth_method")

        auth_data = d.pop("auth_data", UNSET)

        auth_details_response = cls(
            account_id=account_id,
            auth_method=auth_method,
            auth_data=auth_data,
        )


        auth_details_response.additional_properties = d
        return auth_details_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
