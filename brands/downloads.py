"""Serving private files: only after the caller's view has checked access.

Local storage streams the file through Django; S3 answers with a redirect to a short-lived
signed URL (the bucket itself stays private).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def private_file_response(
    field_file: FieldFile, *, filename: str, content_type: str, inline: bool = False
) -> HttpResponse:
    disposition = content_disposition_header(not inline, filename)
    storage = field_file.storage
    if hasattr(storage, "bucket_name"):  # S3-compatible (django-storages)
        url = storage.url(
            field_file.name,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
            expire=settings.STORAGES["default"]["OPTIONS"].get("querystring_expire", 300),
        )
        response: HttpResponse = HttpResponseRedirect(url)
    else:
        response = FileResponse(field_file.open("rb"), content_type=content_type)
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if not content_type.startswith("application/pdf"):
        # Nothing in an uploaded file may run as part of our site.
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
