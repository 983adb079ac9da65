"""Policies: the documents and announcements that events cite."""

from __future__ import annotations

from litestar import Controller, get

from api import problems
from api.parameters import AsOf, KnownAt, Limit, PolicyCursor, PolicyId, System, moment
from evolve.answers import Policy, PolicyPage
from evolve.query import DEFAULT_LIMIT


class PolicyController(Controller):
    path = "/policies"
    tags = ["Policies"]

    @get(operation_id="ListPolicies", summary="List policies", sync_to_thread=True, responses=problems.responses(400))
    def list_policies(
        self,
        system: System,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: PolicyCursor = None,
    ) -> PolicyPage:
        """Every policy published by `as_of`, as the log knew it at `known_at`, with its latest details by
        then; ordered by id, paginated by cursor."""
        return system.queries.policies(as_of, moment(known_at), limit=limit, cursor=cursor)

    @get(
        "/{policy_id:str}",
        operation_id="GetPolicy",
        summary="One policy",
        sync_to_thread=True,
        responses=problems.responses(400, 404),
    )
    def get_policy(self, system: System, policy_id: PolicyId, as_of: AsOf = None, known_at: KnownAt = None) -> Policy:
        """A policy document or announcement as published by `as_of` and known at `known_at`: title,
        publisher, date, URL and the event that recorded it. 404 before it was published."""
        return system.queries.policy(policy_id, as_of, moment(known_at))
