from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.api_key_creator_data import ApiKeyCreatorData





T = TypeVar("T", bound="OrgApiKeysListResponseItem")



@_attrs_define
class OrgApiKeysListResponseItem:
    """ 
        Attributes:
            created_at (datetime.datetime): When the key was created.
            created_by (ApiKeyCreatorData): The user who created a key.
            id (int): Numeric id of the key.
            name (str): Name of the key.
            last_used_at (datetime.datetime | None | Unset): When the key was last used; null if never.
            last_used_from_addr (str | Unset): Address or addresses the key was last used from; empty if never.
            project_id (str | Unset): The project the key is scoped to, if any.
     """

    created_at: datetime.datetime
    created_by: ApiKeyCreatorData
    id: int
    name: str
    last_used_at: datetime.datetime | None | Unset = UNSET
    last_used_from_addr: str | Unset = UNSET
    project_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.api_key_creator_data import ApiKeyCreatorData # noqa: PLC0415
        created_at = self.created_at.isoformat()

        created_by = self.created_by.to_dict()

        id = self.id

        name = self.name

        last_used_at: None | str | Unset
        if isinstance(self.last_used_at, Unset):
            last_used_at = UNSET
        elif isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        last_used_from_addr = self.last_used_from_addr

        project_id = self.project_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "created_by": created_by,
            "id": id,
            "name": name,
        })
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if last_used_from_addr is not UNSET:
            field_dict["last_used_from_addr"] = last_used_from_addr
        if project_id is not UNSET:
            field_dict["project_id"] = project_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.api_key_creator_data import ApiKeyCreatorData # noqa: PLC0415
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        created_by = ApiKeyCreatorData.from_dict(d.pop("created_by"))




        id = d.pop("id")

        name = d.pop("name")

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

        project_id = d.pop("project_id", UNSET)

        org_api_keys_list_response_item = cls(
            created_at=created_at,
            created_by=created_by,
            id=id,
            name=name,
            last_used_at=last_used_at,
            last_used_from_addr=last_used_from_addr,
            project_id=project_id,
        )


        org_api_keys_list_response_item.additional_properties = d
        return org_api_keys_list_response_item

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
