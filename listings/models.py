"""Listings models: Seller, Listing, ListingImage arrive with catalogue ingestion (issue 4)."""
