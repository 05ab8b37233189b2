from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="ApiKeyRevokeResponse")



@_attrs_define
class ApiKeyRevokeResponse:
    """ 
        Attributes:
            id (int): Numeric id of the key.
            name (str): Name of the key.
            revoked (bool): Whether the key is revoked.
            created_at (datetime.datetime | Unset): When the key was created.
            created_by (str | Unset): Id of the user who created the key.
            last_used_at (datetime.datetime | None | Unset): When the key was last used; null if never.
            last_used_from_addr (str | Unset): Address or addresses the key was last used from; empty if never.
     """

    id: int
    name: str
    revoked: bool
    created_at: datetime.datetime | Unset = UNSET
    created_by: str | Unset = UNSET
    last_used_at: datetime.datetime | None | Unset = UNSET
    last_used_from_addr: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        revoked = self.revoked

        created_at: str | Unset = UNSET
        if not isinstance(self.created_at, Unset):
            created_at = self.created_at.isoformat()

        created_by = self.created_by

        last_used_at: None | str | Unset
        if isinstance(self.last_used_at, Unset):
            last_used_at = UNSET
        elif isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        last_used_from_addr = self.last_used_from_addr


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "name": name,
            "revoked": revoked,
        })
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if created_by is not UNSET:
            field_dict["created_by"] = created_by
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if last_used_from_addr is not UNSET:
            field_dict["last_used_from_addr"] = last_used_from_addr

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        revoked = d.pop("revoked")

        _created_at = d.pop("created_at", UNSET)
        created_at: datetime.datetime | Unset
        if isinstance(_created_at,  Unset):
            created_at = UNSET
        else:
            created_at = datetime.datetime.fromisoformat(_created_at)




        created_by = d.pop("created_by", UNSET)

        def _parse_last_used_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at", UNSET))


        last_used_from_addr = d.pop("last_used_from_addr", UNSET)

        api_key_revoke_response = cls(
            id=id,
            name=name,
            revoked=revoked,
            created_at=created_at,
            created_by=created_by,
            last_used_at=last_used_at,
            last_used_from_addr=last_used_from_addr,
        )


        api_key_revoke_response.additional_properties = d
        return api_key_revoke_response

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
