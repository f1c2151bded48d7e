"""Writes for the brands app, split by concern; import from here: `from brands import services`."""

from brands.services.assets import asset_create, asset_delete, asset_reprocess, asset_update, require_brand_kind
from brands.services.authorizations import authorization_decide, authorization_file, authorization_resubmit
from brands.services.documents import document_delete, document_upload
from brands.services.jobs import (
    job_create,
    job_fail,
    job_finish,
    job_finish_if_complete,
    job_progress,
    job_start,
)
from brands.services.members import (
    BRAND_EDITABLE_FIELDS,
    brand_create,
    brand_update,
    membership_change_role,
    membership_invite,
    membership_remove,
)
from brands.services.rights import (
    right_create,
    right_decide,
    right_resubmit,
    right_update,
    rights_expire_due,
    rights_remind_expiring,
)
from brands.services.staydown import staydown_asset_add, staydown_asset_set_origin, staydown_assets_retire

__all__ = [
    "BRAND_EDITABLE_FIELDS",
    "asset_create",
    "asset_delete",
    "asset_reprocess",
    "asset_update",
    "authorization_decide",
    "authorization_file",
    "authorization_resubmit",
    "brand_create",
    "brand_update",
    "document_delete",
    "document_upload",
    "job_create",
    "job_fail",
    "job_finish",
    "job_finish_if_complete",
    "job_progress",
    "job_start",
    "membership_change_role",
    "membership_invite",
    "membership_remove",
    "require_brand_kind",
    "right_create",
    "right_decide",
    "right_resubmit",
    "right_update",
    "rights_expire_due",
    "rights_remind_expiring",
    "staydown_asset_add",
    "staydown_asset_set_origin",
    "staydown_assets_retire",
]
