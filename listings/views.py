"""Catalogue pages: the evasion-proof search with filters and facets, a listing's page, images."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from brands.downloads import private_file_response
from brands.models import Brand
from brands.selectors import brands_user_may_file_for, object_history
from brands.tenancy import can_manage, get_scoped_or_404
from core.uploads import IMAGE_KINDS, inspect_upload
from engine.normalize import query_keys
from listings import selectors, services
from listings.forms import ListingSearchForm
from listings.models import Listing, ListingImage, SavedSearch
from listings.selection import listing_filing_context, page_size


def _require_catalogue(request: HttpRequest) -> None:
    if not selectors.can_browse_catalogue(request.user):
        raise PermissionDenied


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _require_catalogue(request)
    form = ListingSearchForm(request.GET or None)
    query = selectors.ListingQuery()
    if form.is_valid():
        query = selectors.ListingQuery(**{k: v for k, v in form.cleaned_data.items() if v not in ("", None)})
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    page = selectors.search_page(
        user=request.user, query=query, number=number, per_page=page_size(request.GET.get("page_size"))
    )
    prefetch_related_objects(page.items, "images")
    results = selectors.listing_search(user=request.user, query=query)
    params = request.GET.copy()
    params.pop("page", None)
    manageable = Brand.objects.manageable_by(request.user).order_by("name")
    can_file = brands_user_may_file_for(user=request.user).exists()
    context = {
        "form": form,
        "page": page,
        "can_file": can_file,
        "file_all": listing_filing_context(request, selectors.listings_matching(user=request.user, query=query))
        if can_file and form.is_bound and page.total
        else None,
        "save_brands": manageable,
        "facets": selectors.facets(results),
        "keys": query_keys(query.q),
        "querystring": params.urlencode(),
    }
    return render(request, "listings/search.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_catalogue(request)
    listing = get_object_or_404(Listing.objects.select_related("seller").prefetch_related("images"), pk=pk)
    from listings.badges import authentication_badges

    context = {
        "listing": listing,
        "history": object_history(obj=listing)[:50],
        "badge": authentication_badges([listing.pk]).get(listing.pk),
    }
    return render(request, "listings/detail.html", context)


@login_required
@require_GET
def image(request: HttpRequest, pk: int) -> HttpResponse:
    _require_catalogue(request)
    picture = get_object_or_404(ListingImage, pk=pk)
    if picture.status != ListingImage.Status.STORED or not picture.file:
        raise Http404("Image not stored")
    name = picture.file.name.rsplit("/", 1)[-1]
    return private_file_response(picture.file, filename=name, content_type=picture.content_type, inline=True)


@login_required
@require_POST
def saved_search_new(request: HttpRequest) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, pk=request.POST.get("brand") or 0)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    params = {k: request.POST.get(k, "") for k in services.SAVED_SEARCH_FIELDS}
    try:
        search = services.saved_search_create(
            actor=request.user, brand=brand, name=request.POST.get("name", ""), params=params,
            notify=request.POST.get("notify") == "on",
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('listings:search')}?{urlencode({k: v for k, v in params.items() if v})}")
    messages.success(request, f"Saved “{search.name}” for {brand.name}: {search.total_hits} listings match today.")
    return redirect("listings:saved")


@login_required
def saved_searches(request: HttpRequest) -> HttpResponse:
    _require_catalogue(request)
    searches = list(selectors.saved_search_list(user=request.user))
    for search in searches:
        search.url = f"{reverse('listings:search')}?{urlencode(search.params)}"
        search.manageable = can_manage(request.user, search.brand_id)
    return render(request, "listings/saved.html", {"searches": searches})


@login_required
@require_POST
def saved_search_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    search = get_scoped_or_404(SavedSearch.objects.select_related("brand"), request.user, pk=pk)
    if not can_manage(request.user, search.brand_id):
        raise PermissionDenied
    if action == "run":
        new = services.saved_search_run(search=search)
        messages.success(request, f"“{search.name}”: {new} new since the last run, {search.total_hits} in all.")
    elif action == "delete":
        search.delete()
        messages.success(request, f"“{search.name}” deleted.")
    else:
        raise Http404("Unknown action")
    return redirect("listings:saved")


@login_required
def image_search(request: HttpRequest) -> HttpResponse:
    """Upload a picture (it is not kept), get the listings whose images look like it."""
    _require_catalogue(request)
    hits, error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("image")
        if upload is None:
            error = "Choose an image to search with."
        else:
            try:
                inspect_upload(
                    upload, allowed=IMAGE_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES,
                    max_pixels=settings.IMAGE_MAX_PIXELS,
                )  # fmt: skip
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                hits = selectors.image_search(user=request.user, data=upload.read())
    status = 422 if error else 200
    return render(request, "listings/image_search.html", {"hits": hits, "error": error}, status=status)
