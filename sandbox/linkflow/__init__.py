"""Linkflow CDP's Open API under `/linkflow` (spec: Linkflow开放接口指南)."""

from __future__ import annotations

from starlette.routing import Route

from sandbox.linkflow import handlers as h

PREFIX = "/linkflow"

ROUTES = [
    Route("/token", h.endpoint(h.token, auth=False), methods=["GET"]),
    Route("/open/messages", h.endpoint(h.post_messages), methods=["POST"]),
    Route("/open/identity/contact", h.endpoint(h.identity_contact), methods=["GET"]),
    Route("/open/contacts", h.endpoint(h.contacts), methods=["GET"]),
    Route("/open/contacts/cursor", h.endpoint(h.contacts_cursor), methods=["GET"]),
    Route("/open/contacts_bulk/ids", h.endpoint(h.contacts_bulk_ids), methods=["GET"]),
    Route("/open/contacts_bulk", h.endpoint(h.contacts_bulk), methods=["GET"]),
    Route("/open/contacts/{id}/identities", h.endpoint(h.contact_identities), methods=["GET"]),
    Route("/open/contacts/{contactId}/groups", h.endpoint(h.contact_groups), methods=["GET"]),
    Route("/open/groups", h.endpoint(h.groups), methods=["GET"]),
    Route("/open/groups", h.endpoint(h.create_group), methods=["POST"]),
    Route("/open/groups/{id}", h.endpoint(h.rename_group), methods=["POST"]),
    Route("/open/groups/{id}", h.endpoint(h.delete_group), methods=["DELETE"]),
    Route("/open/groups/{groupId}/contacts", h.endpoint(h.group_contacts), methods=["GET"]),
    Route("/open/groups/{groupId}/contacts", h.endpoint(h.add_group_contacts), methods=["POST"]),
    Route(
        "/open/groups/{groupId}/contacts", h.endpoint(h.remove_group_contacts), methods=["DELETE"]
    ),
]
