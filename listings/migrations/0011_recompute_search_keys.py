"""The normaliser reads letter forms (enclosed, squared, regional indicators), Greek stand-ins and V
for U (issue 17): stored search keys are recomputed (`manage.py reindex_search` does the same)."""

from django.db import migrations


def recompute(apps, schema_editor):
    from listings.search_keys import reindex_images, reindex_listings

    for _ in reindex_listings(apps.get_model("listings", "Listing").objects.all()):
        pass
    for _ in reindex_images(apps.get_model("listings", "ListingImage").objects.all()):
        pass


class Migration(migrations.Migration):

    dependencies = [
        ('listings', '0010_listingimage_ocr'),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True),
    ]
