"""What every REST view of the portal shares: the brand permission, and one error envelope.

Every 400 is `{"errors": [{"path", "message"}]}` (documented as `CampaignErrorsOutput`), a
conflict `{"detail"}` (409), a remote failure `{"detail", "retryable", ...}` (502, or 409
for a refusal). DRF's own shapes must not leak (issue 9: the fuzzer checks each answer
against the schema): `exception_handler` is the project's (REST_FRAMEWORK setting).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status, views
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission


class BrandCanAct(BasePermission):
    """A brand is attached to the session; a frozen or expired one may only read."""

    message = gettext_lazy("当前账号没有关联可用的品牌商")

    def has_permission(self, request, view) -> bool:
        brand = getattr(request, "brand", None)
        if brand is None:
            return False
        return request.method in SAFE_METHODS or brand.is_usable


class RemoteFailed(APIException):
    """JD Cloud failed or refused: `{"detail": JD's message, "retryable": bool, ...}`."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "jdcloud_failed"

    def __init__(self, body: dict[str, Any]) -> None:
        # Kept as given: APIException would turn `retryable` and nested rows into strings.
        super().__init__()
        self.detail = body


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def error_paths(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested errors as `[{"path": "templateInfo.data[0].name", "message": ...}]`."""
    if isinstance(errors, dict):
        found = []
        for key, value in errors.items():
            if key == "non_field_errors":
                path = prefix
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            found += error_paths(value, path)
        return found
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return [{"path": prefix, "message": str(item)} for item in errors]
        found = []
        for index, item in enumerate(errors):
            found += error_paths(item, f"{prefix}[{index}]")
        return found
    return [{"path": prefix, "message": str(errors)}]


# Every 400 of the API is this envelope, documented as `ErrorsOutput`: DRF's own shapes
# (`{"field": [...]}`, `{"detail": ...}`) must not leak (issue 9: the fuzzer checks each
# answer against the schema). Views read the body with `request_fields` and validate it
# with `validated`; a refusal is `field_error` or `input_error`. API views inherit
# `ErrorEnvelope` for the 400s DRF raises itself (a body that does not parse, mostly).


def exception_handler(exc, context):
    """DRF's handler, with DRF's own 400s in the envelope. A body that does not parse is
    found before any view code runs: the session's CSRF check reads a POST body."""
    if isinstance(exc, ParseError):
        exc = field_error("", str(exc.detail))
    elif isinstance(exc, ValidationError) and not _is_envelope(exc.detail):
        exc = ValidationError({"errors": error_paths(exc.detail)})
    return views.exception_handler(exc, context)


def _is_envelope(detail) -> bool:
    return isinstance(detail, dict) and set(detail) == {"errors"}


# No docstring: drf-spectacular would take it as the description of views without one.
class ErrorEnvelope:
    def get_exception_handler(self):
        return exception_handler


def request_fields(request) -> dict[str, Any]:
    """The JSON object a request carries; an array, a string or null is a 400."""
    if not isinstance(request.data, dict):
        raise field_error("", _("The body must be a JSON object."))
    return request.data


def validated(
    serializer_class, data, *, paths: dict[str, str] | None = None, **kwargs
) -> dict[str, Any]:
    """The serializer's validated data, or a 400 naming each bad field by its path (by
    `paths[name]` where the path the page knows differs from the field's name)."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        errors = serializer.errors
        if paths and isinstance(errors, dict):
            errors = {paths.get(name, name): value for name, value in errors.items()}
        raise ValidationError({"errors": error_paths(errors)})
    return serializer.validated_data


def field_error(path: str, message: str) -> ValidationError:
    return ValidationError({"errors": [{"path": path, "message": message}]})


def input_error(violations) -> ValidationError:
    return ValidationError({"errors": [{"path": v.path, "message": v.message} for v in violations]})


def remote_error(message: str, retryable: bool, **extra) -> RemoteFailed:
    return RemoteFailed({"detail": message, "retryable": retryable, **extra})


class CampaignErrorItem(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()


ErrorsOutput = inline_serializer("CampaignErrorsOutput", {"errors": CampaignErrorItem(many=True)})
ConflictOutput = inline_serializer("CampaignConflictOutput", {"detail": serializers.CharField()})
