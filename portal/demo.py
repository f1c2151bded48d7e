"""Demo data for the embedded default: brands, users for every role.

Each capability adds its part here so that `make run` shows it working.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from brands import services
from brands.models import Brand, Membership
from brands.services import brand_create
from core.roles import MODERATORS, PLATFORM_ADMINS, PLATFORM_SYSTEMS
from listings.services import saved_search_create
from portal import demo_art
from portal.demo_authenticators import seed_authenticators
from portal.demo_feedback import seed_feedback_story
from portal.demo_gating import seed_gating_story
from portal.demo_history import seed_history
from portal.demo_listings import date_story_listings, seed_listings
from portal.demo_staydown import seed_staydown_story
from portal.demo_takedowns import date_story_takedowns, seed_takedowns


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    first_name: str
    last_name: str
    role: str  # "manager"/"viewer" (with brand), "moderator", "platform admin"
    brand: str = ""
    agent: bool = False  # an outside agent acting for the brand (with a letter of authorization)
    seller: str = ""  # a seller's account: the marketplace seller id it answers for

    @property
    def role_label(self) -> str:
        return "agent" if self.agent else self.role


DEMO_BRANDS = [
    {
        "name": "Aurora Leather",
        "legal_name": "Aurora Leather Goods S.p.A.",
        "website": "https://aurora-leather.example",
        "contact_email": "legal@aurora-leather.example",
        "country": "IT",
        "description": "Hand-made handbags, belts and small leather goods. Frequent target of replica sellers.",
    },
    {
        "name": "Nordpeak Outdoor",
        "legal_name": "Nordpeak Outdoor AB",
        "website": "https://nordpeak.example",
        "contact_email": "brandprotection@nordpeak.example",
        "country": "SE",
        "description": "Technical jackets, backpacks and tents. Its peak logo is copied on cheap jackets.",
    },
]

DEMO_USERS = [
    DemoUser("alice", "alice@aurora-leather.example", "Alice", "Moretti", "manager", "Aurora Leather"),
    DemoUser("victor", "victor@aurora-leather.example", "Victor", "Bianchi", "viewer", "Aurora Leather"),
    DemoUser("nina", "nina@nordpeak.example", "Nina", "Lindqvist", "manager", "Nordpeak Outdoor"),
    DemoUser("oskar", "oskar@nordpeak.example", "Oskar", "Berg", "viewer", "Nordpeak Outdoor"),
    DemoUser("lars", "lars@berg-ip.example", "Lars", "Berg", "manager", "Nordpeak Outdoor", agent=True),
    DemoUser("maya", "maya@ippc.example", "Maya", "Okafor", "moderator"),
    DemoUser("admin", "admin@ippc.example", "Ada", "Admin", "platform admin"),
    DemoUser("marketplace", "integrations@demo-market.example", "Demo", "Marketplace", "platform system"),
    DemoUser("luxdeals", "wei@luxdeals4u.example", "Wei", "Chen", "seller", seller="S-3107"),
    DemoUser("eva", "eva@entrupy.example", "Eva", "Lindgren", "authenticator", "Entrupy"),
]


def demo_is_needed() -> bool:
    return not get_user_model().objects.exists()


@transaction.atomic
def seed_demo(*, password: str | None = None, history: bool = True) -> list[tuple[DemoUser, str]]:
    """Create the demo data; return each demo user with the password it was given. `history`: the three
    months of listings, detections and notices behind the stories (demo_history); off, only the stories."""
    brands = {spec["name"]: brand_create(actor=None, **spec) for spec in DEMO_BRANDS}
    user_model = get_user_model()
    credentials = []
    for demo in DEMO_USERS:
        user_password = password or secrets.token_urlsafe(9)
        user = user_model.objects.create_user(
            username=demo.username,
            email=demo.email,
            password=user_password,
            first_name=demo.first_name,
            last_name=demo.last_name,
            is_staff=demo.role in ("moderator", "platform admin"),
        )
        if demo.role == "moderator":
            user.groups.add(Group.objects.get(name=MODERATORS))
        elif demo.role == "platform admin":
            user.groups.add(Group.objects.get(name=PLATFORM_ADMINS))
        elif demo.role == "platform system":
            user.groups.add(Group.objects.get(name=PLATFORM_SYSTEMS))
        elif demo.role in ("seller", "authenticator"):
            pass  # linked once the catalogue is in (seed_listings), or by demo_authenticators
        else:
            Membership.objects.create(user=user, brand=brands[demo.brand], role=demo.role)
        credentials.append((demo, user_password))
    _seed_rights_and_assets(brands)
    seed_listings()
    _link_seller_accounts()
    # Matching runs once the listings are committed; the review and the notices come after it.
    transaction.on_commit(_review_detections)
    transaction.on_commit(seed_takedowns)
    transaction.on_commit(seed_authenticators)
    transaction.on_commit(_date_stories)
    if history:
        transaction.on_commit(seed_history)
    transaction.on_commit(seed_feedback_story)  # dismissals remembered, a suggestion, a calibrated brand
    # Last: it dates its own rows, and its new stay-down reference's back-scan comes after every other.
    transaction.on_commit(seed_staydown_story)
    transaction.on_commit(seed_gating_story)  # after the stories: a gated brand, a held listing, two sellers
    alice = get_user_model().objects.get(username="alice")
    saved_search_create(actor=alice, brand=brands["Aurora Leather"], name="AURORA spellings", params={"q": "aurora"})
    return credentials


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _right(brand: Brand, manager: object, *, certificate: bytes | None = None, image: bytes | None = None, **data):
    return services.right_create(
        actor=manager,
        brand=brand,
        certificate=_file(f"{data['office'].lower()}-{data['registration_number']}.pdf", certificate)
        if certificate
        else None,
        mark_image=_file("mark.png", image) if image else None,
        **data,
    )


def _certificate(brand: Brand, **data: object) -> bytes:
    valid = f"{data.get('valid_from') or '—'} to {data.get('valid_until') or 'no end date'}"
    return demo_art.certificate_pdf(
        office=str(data["office"]),
        number=str(data["registration_number"]),
        mark=str(data.get("word_mark") or data["title"]),
        holder=str(data["holder_name"]),
        classes=", ".join(str(c) for c in data.get("nice_classes") or []),
        valid=valid,
    )


def _seed_rights_and_assets(brands: dict[str, Brand]) -> None:
    """Rights in every state, their certificates, reference assets and an agent's authorization."""
    users = {u.username: u for u in get_user_model().objects.all()}
    moderator, alice, nina = users["maya"], users["alice"], users["nina"]
    today = timezone.localdate()
    aurora, nordpeak = brands["Aurora Leather"], brands["Nordpeak Outdoor"]
    sun, peak = demo_art.sun_logo(), demo_art.peak_logo()

    def filed(brand: Brand, manager: object, image: bytes | None = None, **data: object):
        return _right(brand, manager, certificate=_certificate(brand, **data), image=image, **data)

    aurora_eu = filed(
        aurora, alice, kind="trademark_word", title="AURORA word mark, EU", registration_number="018234567",
        office="EUIPO", jurisdictions=["EU"], nice_classes=[18, 25], holder_name=aurora.legal_name,
        valid_from=dt.date(2021, 3, 1), valid_until=dt.date(2031, 3, 1), word_mark="AURORA",
    )  # fmt: skip
    services.right_decide(actor=moderator, right=aurora_eu, action="verify")
    aurora_us = filed(
        aurora, alice, image=sun, kind="trademark_figurative", title="Aurora sun logo, US",
        registration_number="6123456", office="USPTO", jurisdictions=["US"], nice_classes=[18],
        holder_name=aurora.legal_name, valid_from=dt.date(2016, 5, 10), valid_until=today + dt.timedelta(days=20),
    )  # fmt: skip
    services.right_decide(actor=moderator, right=aurora_us, action="verify")
    filed(
        aurora, alice, kind="design", title="Aurora Luna handbag design", registration_number="008765432-0001",
        office="EUIPO", jurisdictions=["EU"], holder_name=aurora.legal_name, valid_from=dt.date(2023, 9, 1),
        valid_until=dt.date(2028, 9, 1),
    )  # fmt: skip
    aurora_cn = filed(
        aurora, alice, kind="trademark_word", title="AURORA word mark, CN", registration_number="45123987",
        office="CNIPA", jurisdictions=["CN"], nice_classes=[18], holder_name=aurora.legal_name,
        valid_from=dt.date(2020, 11, 14), valid_until=dt.date(2030, 11, 13), word_mark="AURORA",
    )  # fmt: skip
    services.right_decide(
        actor=moderator, right=aurora_cn, action="request_info",
        reason="The certificate is in Chinese: please upload a certified English translation.",
    )  # fmt: skip

    nordpeak_eu = filed(
        nordpeak, nina, image=peak, kind="trademark_combined", title="NORDPEAK logo and word, EU",
        registration_number="017555001", office="EUIPO", jurisdictions=["EU"], nice_classes=[18, 22, 25],
        holder_name=nordpeak.legal_name, valid_from=dt.date(2018, 2, 1), valid_until=dt.date(2028, 2, 1),
        word_mark="NORDPEAK",
    )  # fmt: skip
    services.right_decide(actor=moderator, right=nordpeak_eu, action="verify")
    nordpeak_uk = filed(
        nordpeak, nina, kind="trademark_word", title="NORDPEAK word mark, UK", registration_number="UK00003456789",
        office="UKIPO", jurisdictions=["GB"], nice_classes=[25], holder_name=nordpeak.legal_name,
        valid_from=dt.date(2019, 7, 1), valid_until=dt.date(2029, 7, 1), word_mark="NORDPEAK",
    )  # fmt: skip
    services.right_decide(
        actor=moderator, right=nordpeak_uk, action="reject",
        reason="The holder on the certificate (Nordpeak Holding Ltd) is not this brand: file the licence.",
    )  # fmt: skip

    for brand, manager, right, logo, words, price, seller in (
        (aurora, alice, aurora_us, sun, ["AURORA", "Aurora", "AUR0RA"], ("Luna handbag", "450", "1200", "EUR"),
         ("Aurora Official Store", "S-1001")),
        (nordpeak, nina, nordpeak_eu, peak, ["NORDPEAK", "Nord Peak", "NORDPEAK OUTDOOR"],
         ("Summit jacket", "280", "520", "EUR"), ("Nordpeak Outlet", "S-2001")),
    ):  # fmt: skip
        services.asset_create(actor=manager, brand=brand, right=right, kind="logo", label="Main logo",
                              image=_file("logo.png", logo))  # fmt: skip
        services.asset_create(actor=manager, brand=brand, right=right, kind="word_mark", label="Brand name",
                              words=words)  # fmt: skip
        services.asset_create(
            actor=manager, brand=brand, right=right, kind="price_range", label=f"{price[0]} price",
            product_line=price[0], price_min=price[1], price_max=price[2], currency=price[3],
        )  # fmt: skip
        services.asset_create(
            actor=manager, brand=brand, right=right, kind="authorized_seller", label=seller[0],
            marketplace="demo-market", seller_external_id=seller[1], seller_name=seller[0],
        )  # fmt: skip
    # Nordpeak's own catalogue shot: copies of it (mirrored, cropped) are found by the image matcher.
    services.asset_create(
        actor=nina, brand=nordpeak, right=nordpeak_eu, kind="product_photo", label="Summit jacket, catalogue shot",
        product_line="Summit jacket", image=_file("summit-jacket.jpg", demo_art.catalogue_photo()),
    )  # fmt: skip

    letter = demo_art.certificate_pdf(
        office="Letter of authorization", number="LOA-2026-014", mark="NORDPEAK",
        holder="Berg & Partners IP acts for Nordpeak Outdoor AB", classes="", valid=f"until {today.year + 2}-12-31",
    )  # fmt: skip
    services.authorization_file(
        actor=nina, brand=nordpeak, agent=users["lars"], file=_file("letter-of-authorization.pdf", letter),
        agent_organisation="Berg & Partners IP", scope="File and follow up IP complaints on the marketplace.",
        valid_until=dt.date(today.year + 2, 12, 31),
    )  # fmt: skip


def _link_seller_accounts() -> None:
    from listings.models import Seller
    from takedowns.models import SellerAccount

    for demo in DEMO_USERS:
        if demo.seller:
            SellerAccount.objects.create(
                seller=Seller.objects.get(marketplace="demo-market", external_id=demo.seller),
                user=get_user_model().objects.get(username=demo.username),
            )


def _review_detections() -> None:
    """The workers flagged the demo listings as they came in; Alice has already cleared one."""
    from listings.matching import detection_set_state
    from listings.models import Detection

    alice = get_user_model().objects.get(username="alice")
    resale = Detection.objects.filter(listing__external_id="R-600").first()
    if resale is not None:
        detection_set_state(
            actor=alice, detection=resale, state="dismissed",
            reason="Genuine pre-owned bag: the seller sent the receipt and the serial number checks out.",
        )  # fmt: skip


def _date_stories() -> None:
    """The services stamp `now`; the stories happen over the last three months (see demo_history)."""
    now = timezone.now()
    _date_setup(now=now)
    date_story_listings(now=now)
    date_story_takedowns(now=now)


# Days before today: the brands joined, filed their rights and had them verified at the start of the
# quarter; later filings (Aurora's Chinese mark, Nordpeak's UK mark, the design) and Lars' letter since.
JOINED_DAYS_AGO = 92
RIGHT_DAYS_AGO = {  # title: (filed, decided or None)
    "AURORA word mark, CN": (9, 7), "NORDPEAK word mark, UK": (40, 38), "Aurora Luna handbag design": (3, None),
}  # fmt: skip


def _date_setup(*, now: dt.datetime) -> None:
    from brands.models import AgentAuthorization, IPDocument, IPRight, Job, ReferenceAsset
    from listings.models import SavedSearch

    joined = now - dt.timedelta(days=JOINED_DAYS_AGO)
    Brand.objects.update(created_at=joined, updated_at=joined)
    get_user_model().objects.update(date_joined=joined)
    Membership.objects.update(created_at=joined)
    Membership.objects.filter(user__username="lars").update(created_at=now - dt.timedelta(days=6))
    for right in IPRight.objects.all():
        filed_days, decided_days = RIGHT_DAYS_AGO.get(right.title, (91, 90))
        filed = now - dt.timedelta(days=filed_days, hours=3)
        decided = now - dt.timedelta(days=decided_days, hours=1) if decided_days is not None else None
        IPRight.objects.filter(pk=right.pk).update(
            submitted_at=filed, created_at=filed, updated_at=decided or filed,
            decided_at=decided if right.decided_at else None,
        )  # fmt: skip
        IPDocument.objects.filter(right=right).update(created_at=filed)
    assets_at = now - dt.timedelta(days=89)
    ReferenceAsset.objects.update(created_at=assets_at, updated_at=assets_at, features_updated_at=assets_at)
    Job.objects.update(created_at=assets_at, started_at=assets_at, finished_at=assets_at + dt.timedelta(seconds=40))
    letter_at = now - dt.timedelta(days=2, hours=4)
    AgentAuthorization.objects.update(submitted_at=letter_at, created_at=letter_at)
    IPDocument.objects.filter(kind=IPDocument.Kind.AUTHORIZATION).update(created_at=letter_at)
    SavedSearch.objects.update(created_at=now - dt.timedelta(days=30))


def demo_second_factors() -> list[tuple[DemoUser, str, list[str]]]:
    """Moderators and platform admins must log in with a second factor: give the demo's staff an
    authenticator key (to type into any authenticator app) and recovery codes, new ones each call."""
    from core.mfa import second_factor_provision

    user_model = get_user_model()
    factors = []
    for demo in DEMO_USERS:
        if demo.role not in ("moderator", "platform admin"):
            continue
        user = user_model.objects.filter(username=demo.username).first()
        if user is not None:
            key, codes = second_factor_provision(user=user)
            factors.append((demo, key, codes))
    return factors


def reset_demo_passwords(*, password: str | None = None) -> list[tuple[DemoUser, str]]:
    user_model = get_user_model()
    credentials = []
    for demo in DEMO_USERS:
        user = user_model.objects.filter(username=demo.username).first()
        if user is None:
            continue
        user_password = password or secrets.token_urlsafe(9)
        user.set_password(user_password)
        user.save(update_fields=["password"])
        credentials.append((demo, user_password))
    return credentials
