"""Every endpoint of the Linkflow spec, with its method and path (mounted at `/linkflow`).
The path templates are also the `endpoint` names of the journal and of fault paths
(`/linkflow/open/report/{reportId}`)."""

from __future__ import annotations

from sandbox.linkflow import handlers as h
from sandbox.linkflow import message_handlers as m
from sandbox.linkflow import report_handlers as r
from sandbox.linkflow import tag_handlers as t
from sandbox.linkflow.endpoint import route


def _get(path, handler, **kwargs):
    return route(path, handler, method="GET", **kwargs)


def _post(path, handler, **kwargs):
    return route(path, handler, method="POST", **kwargs)


def _delete(path, handler, **kwargs):
    return route(path, handler, method="DELETE", **kwargs)


ROUTES = [
    _get("/token", h.token, auth=False),
    # contacts, events and orders
    _post("/open/messages", m.post_messages),
    _post("/open/messages/orders", m.post_orders),
    _get("/open/orders", m.orders),
    _get("/open/identity/contact", h.identity_contact),
    _get("/open/contacts", h.contacts),
    _get("/open/contacts/cursor", h.contacts_cursor),
    _get("/open/contacts_bulk/ids", h.contacts_bulk_ids),
    _get("/open/contacts_bulk", h.contacts_bulk),
    _post("/open/contacts/identities", h.contact_all_identities),
    _delete("/open/contacts/identities/unbind", h.unbind_identities),
    _post("/open/contacts/tags", t.contact_tags),
    _get("/open/contacts/{id}/identities", h.contact_identities),
    _get("/open/contacts/{id}/channel_identities", h.channel_identities),
    _get("/open/contacts/{contactId}/groups", h.contact_groups),
    _get("/open/workwechat/{channelId}/qrcodes", h.workwechat_qrcodes),
    # groups
    _get("/open/groups", h.groups),
    _post("/open/groups", h.create_group),
    _post("/open/groups/{id}", h.rename_group),
    _delete("/open/groups/{id}", h.delete_group),
    _get("/open/groups/{groupId}/contacts", h.group_contacts),
    _post("/open/groups/{groupId}/contacts", h.add_group_contacts),
    _delete("/open/groups/{groupId}/contacts", h.remove_group_contacts),
    # tags
    _post("/v1/tags", t.create_tag),
    _get("/v1/tags", t.list_tags),
    _post("/v1/tags/value", t.set_values),
    _get("/v1/tags/tagkeys/export/{taskId}", t.export_status),
    _delete("/v1/tags/tagkeys/{tagKey}", t.delete_tag),
    _post("/v1/tags/tagkeys/{tagKey}/upload/file/operates/{operate}", t.upload_file),
    _post("/v1/tags/tagkeys/{tagKey}/calculate", t.calculate),
    _post("/v1/tags/tagkeys/{tagKey}/export", t.export),
    _get("/open/folders", t.folders),
    _post("/open/dim/{dimensionId}/data", t.dimension_data),
    # reports and short links
    _get("/open/report/{reportId}", r.report),
    _get("/open/dashboard/{dashboardId}/summary", r.dashboard),
    _post("/open/shorturl", r.short_url),
    _post("/open/shorturl/distribute", r.short_url_distribute),
    # what the sandbox serves besides the API: short links and export files
    _get("/s/{code}", r.follow, auth=False),
    _get("/files/tag-export/{taskId}/{secret}.csv", t.export_file, auth=False),
]
