"""Policies: the documents and announcements that events cite."""

from __future__ import annotations

from litestar import Controller, get

from api import problems
from api.parameters import Limit, PolicyCursor, PolicyId, System
from evolve.query import DEFAULT_LIMIT, Policy, PolicyPage


class PolicyController(Controller):
    path = "/policies"
    tags = ["Policies"]

    @get(operation_id="ListPolicies", summary="List policies", sync_to_thread=True, responses=problems.responses(400))
    def list_policies(self, system: System, limit: Limit = DEFAULT_LIMIT, cursor: PolicyCursor = None) -> PolicyPage:
        """Every policy the log has recorded (latest details), ordered by id, paginated by cursor."""
        return system.queries.policies(limit=limit, cursor=cursor)

    @get(
        "/{policy_id:str}",
        operation_id="GetPolicy",
        summary="One policy",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def get_policy(self, system: System, policy_id: PolicyId) -> Policy:
        """A policy document or announcement: title, publisher, date, URL and the event that recorded it."""
        return system.queries.policy(policy_id)
