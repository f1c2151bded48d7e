"""Pages for reference assets and the jobs that process them (status polled with htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from brands import selectors, services
from brands.downloads import private_file_response
from brands.forms import AssetForm
from brands.models import Brand, ReferenceAsset
from brands.tenancy import brand_roles, can_manage, get_scoped_or_404


def _context(request: HttpRequest, brand: Brand, tab: str) -> dict[str, object]:
    return {"brand": brand, "tab": tab, "can_manage": can_manage(request.user, brand.pk),
            "my_role": brand_roles(request.user).get(brand.pk)}  # fmt: skip


@login_required
def asset_list(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    # Stay-down references have a section of their own (with the notices they came from), loaded from
    # the takedown workflow's page; here, what the brand added itself.
    assets = list(selectors.asset_list(user=request.user, brand=brand).exclude(kind=ReferenceAsset.Kind.STAY_DOWN))
    jobs = selectors.latest_jobs_for(objects=assets)
    for asset in assets:
        asset.job = jobs.get(f"brands.referenceasset:{asset.pk}")
    context = _context(request, brand, "assets")
    context.update(
        assets=assets,
        kinds=[(kind.value, kind.label) for kind in ReferenceAsset.BRAND_KINDS],
        has_verified_rights=selectors.verified_rights(brand=brand).exists(),
        busy=any(a.job and not a.job.is_finished for a in assets),
    )
    template = "brands/_asset_table.html" if request.headers.get("HX-Request") else "brands/asset_list.html"
    return render(request, template, context)


@login_required
def asset_new(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    kind = request.GET.get("kind") or request.POST.get("kind") or ReferenceAsset.Kind.LOGO
    if kind not in ReferenceAsset.BRAND_KINDS:
        raise Http404("Unknown asset kind")
    form = AssetForm(
        request.POST or None, request.FILES or None, kind=kind, rights=selectors.verified_rights(brand=brand)
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        right = data.pop("right")
        try:
            asset = services.asset_create(actor=request.user, brand=brand, right=right, kind=kind, **data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"“{asset.label}” added; its features are being computed.")
            return redirect("brands:assets", slug=brand.slug)
    context = _context(request, brand, "assets")
    context.update(form=form, kind=kind, kind_label=ReferenceAsset.Kind(kind).label)
    return render(request, "brands/asset_form.html", context)


@login_required
@require_POST
def asset_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    asset = get_scoped_or_404(ReferenceAsset.objects.filter(brand=brand), request.user, pk=pk)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    services.asset_delete(actor=request.user, asset=asset)
    messages.success(request, f"“{asset.label}” removed.")
    return redirect("brands:assets", slug=brand.slug)


@login_required
@require_GET
def asset_image(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    asset = get_scoped_or_404(ReferenceAsset.objects.filter(brand=brand), request.user, pk=pk)
    if not asset.image:
        raise Http404("No image")
    name = asset.image.name.rsplit("/", 1)[-1]
    content_type = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}.get(name.rsplit(".", 1)[-1])
    if content_type is None:
        raise Http404("Unknown image type")
    return private_file_response(asset.image, filename=name, content_type=content_type, inline=True)


@login_required
def job_list(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    jobs = list(selectors.job_list(user=request.user, brand=brand)[:100])
    context = _context(request, brand, "jobs")
    context.update(jobs=jobs, busy=any(not j.is_finished for j in jobs))
    template = "brands/_job_table.html" if request.headers.get("HX-Request") else "brands/job_list.html"
    return render(request, template, context)


@login_required
def asset_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change an asset's text, prices, seller or backing right; its features are computed again."""
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    asset = get_scoped_or_404(ReferenceAsset.objects.filter(brand=brand), request.user, pk=pk)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    services.require_brand_kind(asset)
    initial = {
        "right": asset.right_id,
        "label": asset.label,
        "words": "\n".join(asset.words),
        "product_line": asset.product_line,
        "price_min": asset.price_min,
        "price_max": asset.price_max,
        "currency": asset.currency,
        "marketplace": asset.marketplace,
        "seller_external_id": asset.seller_external_id,
        "seller_name": asset.seller_name,
    }
    form = AssetForm(
        request.POST or None, kind=asset.kind, rights=selectors.verified_rights(brand=brand), initial=initial
    )
    form.fields.pop("image", None)  # a new picture is a new asset: add it and remove this one
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        right = data.pop("right")
        try:
            services.asset_update(actor=request.user, asset=asset, right=right, **data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"“{asset.label}” saved; its features are being computed again.")
            return redirect("brands:assets", slug=brand.slug)
    context = _context(request, brand, "assets")
    context.update(form=form, kind=asset.kind, kind_label=asset.get_kind_display(), asset=asset)
    return render(request, "brands/asset_form.html", context)
