"""Signals other apps subscribe to (dependencies point one way: brands knows no subscriber).

`reference_asset_changed(asset_id, brand_id, change, job_id)` is sent after a reference
asset's features are computed ("created"/"updated"), after it is removed ("removed") and after a
stay-down reference is retired ("retired": kept, but no longer matched).
A subscriber that starts work for it (the listings back-scan) reports into the same job:
`job_progress(job_id=…, add_total=N)` before returning, then `job_progress(done=k)` as
chunks finish, and `job_finish` when all are done. A job nobody added work to is finished
by the sender.
"""

from django.dispatch import Signal

reference_asset_changed = Signal()
