"""The Linkflow write-back of a reach or a WeChat campaign, for their pages:
`{% load linkflow_writeback %}` then `{% writeback_status reach %}` (or `campaign`)."""

from __future__ import annotations

from django import template

from campaigns.writeback import writeback_can_retry, writeback_of, writeback_refusal_codes

register = template.Library()


@register.inclusion_tag("campaigns/writeback/status.html", takes_context=True)
def writeback_status(context, source):
    job = writeback_of(source)
    request = context.get("request")
    refusals = writeback_refusal_codes(job_ids=[job.pk]) if job and job.rejected else {}
    return {
        "job": job,
        "refusals": refusals.get(job.pk, []) if job else [],
        "can_retry": job is not None
        and writeback_can_retry(job)
        and getattr(request, "brand_access", None) == "member",
        "csrf_token": context.get("csrf_token"),
    }
