"""Catalogue pages: the evasion-proof search with filters and facets, a listing's page, images."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from brands.downloads import private_file_response
from brands.selectors import object_history
from engine.normalize import query_keys
from listings import selectors
from listings.forms import ListingSearchForm
from listings.models import Listing, ListingImage


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
    results = selectors.listing_search(user=request.user, query=query)
    page = Paginator(results.prefetch_related("images"), 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "facets": selectors.facets(results),
        "keys": query_keys(query.q),
        "querystring": params.urlencode(),
    }
    return render(request, "listings/search.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_catalogue(request)
    listing = get_object_or_404(Listing.objects.select_related("seller").prefetch_related("images"), pk=pk)
    context = {"listing": listing, "history": object_history(obj=listing)[:50]}
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
