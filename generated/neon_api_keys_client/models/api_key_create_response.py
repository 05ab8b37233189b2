from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="ApiKeyCreateResponse")



@_attrs_define
class ApiKeyCreateResponse:
    """ 
        Attributes:
            created_at (datetime.datetime): When the key was created.
            id (int): Numeric id of the key.
            key (str): The token. Returned once, here.
            name (str): Name of the key.
            created_by (str | Unset): Id of the user who created the key.
     """

    created_at: datetime.datetime
    id: int
    key: str
    name: str
    created_by: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = self.id

        key = self.key

        name = self.name

        created_by = self.created_by


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "id": id,
            "key": key,
            "name": name,
        })
        if created_by is not UNSET:
            field_dict["created_by"] = created_by

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        id = d.pop("id")

        key = d.pop("key")

        name = d.pop("name")

        created_by = d.pop("created_by", UNSET)

        api_key_create_response = cls(
            created_at=created_at,
            id=id,
            key=key,
            name=name,
            created_by=created_by,
        )


        api_key_create_response.additional_properties = d
        return api_key_create_response

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
