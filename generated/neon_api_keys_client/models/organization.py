from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="Organization")



@_attrs_define
class Organization:
    """ 
        Attributes:
            created_at (datetime.datetime): When the organization was created.
            handle (str):
            id (str):
            managed_by (str): What manages the organization; "console" for ones made in the Console or the API.
            name (str):
            plan (str):
            updated_at (datetime.datetime): When the organization was last changed.
            allow_hipaa_projects (bool | Unset): Whether projects may be marked as HIPAA.
            require_mfa (bool | Unset): Whether members must use multi-factor authentication to reach the organization.
     """

    created_at: datetime.datetime
    handle: str
    id: str
    managed_by: str
    name: str
    plan: str
    updated_at: datetime.datetime
    allow_hipaa_projects: bool | Unset = UNSET
    require_mfa: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        handle = self.handle

        id = self.id

        managed_by = self.managed_by

        name = self.name

        plan = self.plan

        updated_at = self.updated_at.isoformat()

        allow_hipaa_projects = self.allow_hipaa_projects

        require_mfa = self.require_mfa


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "handle": handle,
            "id": id,
            "managed_by": managed_by,
            "name": name,
            "plan": plan,
            "updated_at": updated_at,
        })
        if allow_hipaa_projects is not UNSET:
            field_dict["allow_hipaa_projects"] = allow_hipaa_projects
        if require_mfa is not UNSET:
            field_dict["require_mfa"] = require_mfa

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        handle = d.pop("handle")

        id = d.pop("id")

        managed_by = d.pop("managed_by")

        name = d.pop("name")

        plan = d.pop("plan")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        allow_hipaa_projects = d.pop("allow_hipaa_projects", UNSET)

        require_mfa = d.pop("require_mfa", UNSET)

        organization = cls(
            created_at=created_at,
            handle=handle,
            id=id,
            managed_by=managed_by,
            name=name,
            plan=plan,
            updated_at=updated_at,
            allow_hipaa_projects=allow_hipaa_projects,
            require_mfa=require_mfa,
        )


        organization.additional_properties = d
        return organization

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
