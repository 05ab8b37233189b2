"""The emulator reads Neon's facts from the one table the client reads too."""

from __future__ import annotations

import pytest
from emulator_helpers import ORG_ID, Api
from neon_keys._constants import ENDPOINTS, KEY_NAME_MAX_LENGTH, OPERATION_IDS
from neon_keys.testing import Fault, World

SAMPLE_PARAMS = {"org_id": ORG_ID, "key_id": "100001"}


@pytest.mark.parametrize(("operation_id", "method", "template"), ENDPOINTS)
def test_every_covered_operation_is_served_where_the_table_says(
    admin: Api, world: World, operation_id: str, method: str, template: str
) -> None:
    """Each (operation, method, path) of ENDPOINTS reaches that operation, and no other."""
    path = template.format(**SAMPLE_PARAMS)
    admin.request(method, path, json={"key_name": "facts"})
    assert world.log.last.operation_id == operation_id


def test_faults_can_be_planned_for_exactly_the_covered_operations() -> None:
    """world.faults.inject accepts every covered operation id and '*', and nothing else."""
    world = World()
    for operation_id in (*OPERATION_IDS, "*"):
        world.faults.inject(operation_id, Fault.status(500))
    with pytest.raises(ValueError, match="unknown operation") as refused:
        world.faults.inject("createKey", Fault.status(500))
    assert all(operation_id in str(refused.value) for operation_id in OPERATION_IDS)


def test_the_key_name_limit_is_the_clients(admin: Api) -> None:
    """A name of KEY_NAME_MAX_LENGTH characters is accepted, one more is a 400."""
    assert admin.create_personal("n" * KEY_NAME_MAX_LENGTH).status_code == 200
    assert admin.create_personal("n" * (KEY_NAME_MAX_LENGTH + 1)).status_code == 400
