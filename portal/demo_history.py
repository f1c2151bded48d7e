"""Three months of demo history behind the stories: replica sellers listing, the workers flagging them,
Aurora and Nordpeak filing twice a week, Maya deciding on working days, a seller contesting twice, and
a replica campaign in the fifth week before the last that ends in two suspensions.

Everything goes through the real services (ingest, matching, filing, decisions, counter-notices), so
states, strikes, standing and audit trail are what they would be. The services stamp `now`, so each
row is then dated where the plan puts it (`Stamp`): a listing first seen on day 12 has its detection
minutes later, the notice a few days after that and the decision hours after the notice. Audit
events keep the time they were really written: the trail is append-only and hash-chained, and a
rewritten time would break it (`manage.py audit_verify`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max, Model
from django.utils import timezone

from brands.models import Brand, IPRight
from listings.models import Detection, Listing, ListingImage, Seller
from portal import demo_art
from portal.demo_listings import MARKET

HISTORY_DAYS = 90
SEED = 16
# Day (0 = 90 days ago) the replica campaign starts, and how long it runs: Nordpeak parkas ahead of winter.
CAMPAIGN_START, CAMPAIGN_DAYS = 55, 6
# When the brands file (weekdays, 0 = Monday): once a week at first, twice once their backlog grows (from
# the day given); and how many listings at most go in one notice.
FILING_DAYS = {"Aurora Leather": ((4,), 30, (1, 4)), "Nordpeak Outdoor": ((0,), 45, (0, 3))}
MAX_ITEMS_PER_NOTICE = 5
# A seller is taken down this many times at most, except the campaign's ring, which reaches the strike limit.
MAX_TAKEDOWNS_PER_SELLER = 2

SPELLINGS = {
    "Aurora Leather": ["AUR0RA", "Aurora", "A u r o r a", "Аurоrа", "AURORA", "Aurorra", "AUR-ORA", "aur0ra"],
    "Nordpeak Outdoor": ["N0RDPEAK", "Nord Peak", "NORDPEAK", "N.O.R.D.P.E.A.K", "Nordpeek", "NORD-PEAK"],
}
PRODUCTS = {
    "Aurora Leather": [
        ("Luna handbag", "bags", "bag"), ("shoulder bag", "bags", "bag"), ("sun tote", "bags", "bag"),
        ("leather belt", "leather goods", "bag"), ("wallet", "leather goods", "bag"),
        ("crossbody bag", "bags", "bag"), ("clutch", "bags", "bag"),
    ],
    "Nordpeak Outdoor": [
        ("Summit jacket", "clothing", "jacket"), ("hiking shell", "clothing", "jacket"),
        ("down parka", "clothing", "jacket"), ("backpack 40L", "outdoor", "jacket"),
        ("fleece", "clothing", "jacket"),
    ],
}  # fmt: skip
PITCHES = ["1:1 mirror quality", "replica", "AAA grade", "inspired", "dupe", "top quality", "copy", "factory outlet",
           "same as original", "new season"]  # fmt: skip
INNOCENT = [
    ("Aurora borealis poster print", "home decor"), ("Northern peak hiking map", "books"),
    ("Plain leather wallet", "leather goods"), ("Canvas tote bag", "bags"), ("Rain jacket, navy", "clothing"),
    ("Vintage handbag, no brand", "bags"), ("Aurora night lamp", "home decor"), ("Peak performance socks", "clothing"),
    ("Leather belt, brown", "leather goods"), ("Trekking poles, carbon", "outdoor"),
]  # fmt: skip
SHOP_PARTS = (["Lux", "Top", "Best", "Mega", "Star", "Prime", "Trend", "Smart", "Happy", "Global", "Urban", "Royal"],
              ["Bags", "Deals", "Outlet", "Style", "Gear", "Mart", "Shop", "Fashion", "Trade", "Store"])  # fmt: skip
COUNTRIES = ["CN", "CN", "CN", "HK", "TR", "VN", "TH", "AE", "PL", "BG"]

WHY = {
    "Aurora Leather": "Offers “{spelling}” {product}s at €{price}: a misspelling of our AURORA mark to sell copies; "
    "genuine Aurora goods start at €240 and are sold only by our official store.",
    "Nordpeak Outdoor": "“{spelling}” {product} at €{price}, presented as our brand; we do not supply this "
    "seller and the listing copies our NORDPEAK mark.",
}
FALSE_ALARM = "Unrelated use of the word (a poster, a lamp, a map): not our goods."


def seed_history(*, now: dt.datetime | None = None) -> None:
    """Run after the stories are seeded (and matched): adds the 90 days behind them."""
    History(now=now or timezone.now()).run()


@dataclass(order=True)
class _Event:
    at: dt.datetime
    order: int
    run: Callable[[], None] = field(compare=False)


class Stamp:
    """Dates what a service just created: every row of these models made since `mark()` gets `at`."""

    MODELS: tuple[str, ...] = ("takedowns.Notification", "takedowns.Decision", "takedowns.Strike",
                               "takedowns.Suspension", "takedowns.CounterNotice")  # fmt: skip

    def __init__(self) -> None:
        from django.apps import apps

        self.models = [apps.get_model(label) for label in self.MODELS]
        self.marks: dict[type[Model], int] = {}

    def mark(self) -> None:
        self.marks = {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in self.models}

    def new(self, model: type[Model]) -> Any:
        return model.objects.filter(pk__gt=self.marks.get(model, 0))

    def apply(self, at: dt.datetime, now: dt.datetime) -> None:
        from takedowns.models import CounterNotice, Decision, Notification, Strike, Suspension

        read = at + dt.timedelta(hours=2) if at < now - dt.timedelta(days=3) else None
        self.new(Notification).filter(emailed_at__isnull=False).update(created_at=at, emailed_at=at, read_at=read)
        self.new(Notification).update(created_at=at, read_at=read)
        self.new(Strike).update(created_at=at)
        for suspension in self.new(Suspension):
            Suspension.objects.filter(pk=suspension.pk).update(
                created_at=at, appeal_until=at + dt.timedelta(days=settings.SUSPENSION_APPEAL_DAYS)
            )
        self.new(CounterNotice).update(created_at=at, signed_at=at)
        for decision in self.new(Decision):
            statement = dict(decision.statement or {})
            statement["decided_at"] = at.isoformat()
            Decision.objects.filter(pk=decision.pk).update(created_at=at, statement=statement)


def evidence_taken_at(evidence: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    """A detection's evidence says when its snapshot of the listing was taken: when it was found."""
    if isinstance((evidence or {}).get("listing"), dict):
        return {**evidence, "listing": {**evidence["listing"], "taken_at": at.isoformat()}}
    return evidence


def date_decision(item_id: int, at: dt.datetime, *, old_contest: dt.datetime | None = None) -> None:
    """Date an item's latest decision `at`: the item's decision time, the seller's window that it opened
    (and the statement of reasons that names it), its closing time, the Decision row and its strike."""
    from takedowns.models import ComplaintItem, Decision, Strike

    fresh = ComplaintItem.objects.get(pk=item_id)
    updates: dict[str, Any] = {"decided_at": at, "updated_at": at}
    decision = Decision.objects.filter(item=fresh).order_by("-pk").first()
    if decision is not None:
        statement = dict(decision.statement or {})
        statement["decided_at"] = at.isoformat()
        if fresh.contest_until and fresh.contest_until != old_contest:
            updates["contest_until"] = at + dt.timedelta(days=settings.TAKEDOWN_CONTEST_DAYS)
            # The statement of reasons names the deadline it gave: keep it the same as the item's.
            before, after = f"{fresh.contest_until:%Y-%m-%d %H:%M}", f"{updates['contest_until']:%Y-%m-%d %H:%M}"
            statement["redress"] = [line.replace(before, after) for line in statement.get("redress", [])]
        Decision.objects.filter(pk=decision.pk).update(created_at=at, statement=statement)
    if fresh.closed_at:
        updates["closed_at"] = at
    ComplaintItem.objects.filter(pk=item_id).update(**updates)
    Strike.objects.filter(item_id=item_id, created_at__gt=at).update(created_at=at)
    Listing.objects.filter(pk=fresh.listing_id).update(updated_at=at)


class History:
    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.rng = random.Random(SEED)
        start = timezone.localtime(now - dt.timedelta(days=HISTORY_DAYS - 1))
        self.day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
        users = {u.username: u for u in get_user_model().objects.all()}
        self.maya, self.seller_user = users["maya"], users["luxdeals"]
        self.managers = {"Aurora Leather": users["alice"], "Nordpeak Outdoor": users["nina"]}
        self.brands = {b.name: b for b in Brand.objects.all()}
        self.rights = {
            name: IPRight.objects.filter(brand=brand, status="verified").order_by("pk").first()
            for name, brand in self.brands.items()
        }
        self.stamp = Stamp()
        self.events: list[_Event] = []
        self.counter = itertools.count()
        self.planned: dict[str, dict[str, Any]] = {}  # external id -> what the plan says about the listing
        self.takedowns: dict[str, int] = {}  # seller external id -> listings filed against it
        self.filed: set[int] = set()  # listing ids already in a notice
        self.current = now  # the planned time of the event being run

    # --- the catalogue ---------------------------------------------------------------------------

    def day_weights(self) -> list[float]:
        """Listings per day: growth over the quarter, quieter weekends, the campaign's spike."""
        weights = []
        for day in range(HISTORY_DAYS):
            weekday = (self.day0 + dt.timedelta(days=day)).weekday()
            weight = (0.55 + 0.9 * day / HISTORY_DAYS) * (1.15, 1.1, 1.0, 1.0, 0.95, 0.65, 0.55)[weekday]
            weights.append(weight)
        return weights

    def at_on(self, day: int, *, hours: tuple[float, float] = (8, 20)) -> dt.datetime:
        moment = self.day0 + dt.timedelta(days=day, hours=self.rng.uniform(*hours))
        return min(moment, self.now - dt.timedelta(minutes=self.rng.uniform(30, 90)))

    def plan_listings(self) -> list[dict[str, Any]]:
        rng, weights = self.rng, self.day_weights()
        shops = [f"{a}{b}{n}" for n, (a, b) in enumerate(itertools.product(*SHOP_PARTS), start=10)]
        rng.shuffle(shops)
        replica_shops = [(f"S-7{i:03d}", shops[i]) for i in range(85)]
        ring = [("S-7900", "PeakWinterDeals"), ("S-7901", "Nord_Outlet_Direct")]
        honest = [(f"S-8{i:03d}", shops[100 + i]) for i in range(10)]
        plan: list[dict[str, Any]] = []

        def add(seller: tuple[str, str], brand: str, day: int, **listing: Any) -> None:
            number = len(plan) + 1
            plan.append({"external_id": f"H-{number:04d}", "seller": seller, "brand": brand, "day": day,
                         "first_seen": self.at_on(day), **listing})  # fmt: skip

        for index in range(165):
            brand = "Aurora Leather" if rng.random() < 0.6 else "Nordpeak Outdoor"
            product, category, picture = rng.choice(PRODUCTS[brand])
            spelling = rng.choice(SPELLINGS[brand])
            pitch = rng.choice(PITCHES)
            price = rng.choice([19, 25, 29, 35, 39, 45, 49, 59, 65, 79, 89])
            add(
                replica_shops[index % len(replica_shops)], brand, rng.choices(range(HISTORY_DAYS), weights)[0],
                title=f"{spelling} {product} {pitch}", description=f"{pitch.capitalize()}, fast shipping, "
                f"{rng.choice(['many colours', 'free returns', 'bulk discount', 'ships in 24h'])}.",
                price=price, category=category, product=product, spelling=spelling,
                picture=picture if index % 16 == 0 else "", infringing=True,
            )  # fmt: skip
        for day in range(CAMPAIGN_START, CAMPAIGN_START + CAMPAIGN_DAYS):
            for _ in range(5):
                product, category, picture = rng.choice(PRODUCTS["Nordpeak Outdoor"][:3])
                spelling = rng.choice(SPELLINGS["Nordpeak Outdoor"])
                add(
                    rng.choice(ring), "Nordpeak Outdoor", day, title=f"{spelling} {product} winter sale replica",
                    description="Winter sale! Same factory as the original, AAA quality.", price=rng.choice([49, 59]),
                    category=category, product=product, spelling=spelling, picture="", infringing=True,
                )  # fmt: skip
        for index in range(40):
            title, category = INNOCENT[index % len(INNOCENT)]
            add(
                honest[index % len(honest)], "", rng.choices(range(HISTORY_DAYS), weights)[0], title=title,
                description="Brand-new, ships from Europe.", price=rng.choice([12, 18, 24, 35, 49, 75]),
                category=category, product="", spelling="", picture="", infringing=False,
            )  # fmt: skip
        # LuxDeals4U (the demo's seller account) lists twice more; both end in a counter-notice (below).
        for day, product in ((14, "Luna handbag"), (44, "shoulder bag")):
            add(
                ("S-3107", "LuxDeals4U"), "Aurora Leather", day, title=f"AUR0RA {product} mirror quality",
                description="Top replica, same as original, fast shipping.", price=55, category="bags",
                product=product, spelling="AUR0RA", picture="", infringing=True, contested=True,
            )  # fmt: skip
        return plan

    def ingest(self, plan: list[dict[str, Any]]) -> None:
        from listings.services import listing_image_upload, listings_ingest

        countries = {}
        items = []
        for row in plan:
            external, name = row["seller"]
            country = countries.setdefault(external, self.rng.choice(COUNTRIES) if external[2] != "8" else "DE")
            items.append({
                "marketplace": MARKET, "external_id": row["external_id"],
                "seller": {"external_id": external, "name": name, "country": country},
                "title": row["title"], "description": row["description"], "price": str(row["price"]),
                "currency": "EUR", "category": row["category"],
                "url": f"https://demo-market.example/item/{row['external_id']}",
            })  # fmt: skip
            self.planned[row["external_id"]] = row
        listings_ingest(items=items, source="demo")  # matched as they come in (tasks run in-process)
        logos = {"bag": demo_art.sun_logo(), "jacket": demo_art.peak_logo()}
        listings = {x.external_id: x for x in Listing.objects.filter(external_id__startswith="H-")}
        for seed, row in enumerate(plan):
            if row["picture"]:
                photo = demo_art.product_photo(
                    row["picture"], seed=100 + seed, logo=logos[row["picture"]], logo_scale=0.16 + (seed % 3) * 0.04
                )
                upload = SimpleUploadedFile(f"{row['external_id']}.jpg", photo)
                listing_image_upload(listing=listings[row["external_id"]], file=upload)

    def date_catalogue(self) -> None:
        """Each listing on its planned day; its detections minutes after it came in (the scan at ingest)."""
        listings = list(Listing.objects.filter(external_id__startswith="H-"))
        for listing in listings:
            seen = self.planned[listing.external_id]["first_seen"]
            listing.first_seen_at = listing.changed_at = listing.created_at = listing.updated_at = seen
            listing.last_seen_at = max(seen, self.now - dt.timedelta(hours=self.rng.uniform(1, 30)))
        Listing.objects.bulk_update(
            listings, ["first_seen_at", "last_seen_at", "changed_at", "created_at", "updated_at"], batch_size=200
        )
        seen_at = {x.pk: x.first_seen_at for x in listings}
        images = list(ListingImage.objects.filter(listing_id__in=seen_at))
        for image in images:
            image.created_at = image.updated_at = image.matched_at = seen_at[image.listing_id]
        ListingImage.objects.bulk_update(images, ["created_at", "updated_at", "matched_at"], batch_size=200)
        detections = list(Detection.objects.filter(listing_id__in=seen_at))
        for detection in detections:
            found = min(seen_at[detection.listing_id] + dt.timedelta(minutes=self.rng.uniform(2, 40)), self.now)
            detection.created_at = detection.updated_at = found
            if detection.announced_at:
                detection.announced_at = min(found + dt.timedelta(minutes=self.rng.uniform(5, 60)), self.now)
            detection.evidence = evidence_taken_at(detection.evidence, found)
        Detection.objects.bulk_update(
            detections, ["created_at", "updated_at", "announced_at", "evidence"], batch_size=200
        )
        Seller.objects.filter(external_id__startswith="S-7").update(created_at=self.day0)
        Seller.objects.filter(external_id__startswith="S-8").update(created_at=self.day0)

    # --- the brands' and the moderator's work, in time order --------------------------------------

    def schedule(self, at: dt.datetime, run: Callable[[], None]) -> None:
        if at < self.now:
            heapq.heappush(self.events, _Event(at, next(self.counter), run))

    def working_time(self, after: dt.datetime, hours: tuple[float, float]) -> dt.datetime:
        """`after` plus some hours, moved into a weekday's working hours (Maya does not work weekends)."""
        local = timezone.localtime(after + dt.timedelta(hours=self.rng.uniform(*hours)))
        for _ in range(7):
            if local.weekday() < 5 and 8 <= local.hour < 19:
                break
            next_day = local.hour >= 19 or local.weekday() >= 5
            local = (local + dt.timedelta(days=int(next_day))).replace(hour=8, minute=0) + dt.timedelta(
                minutes=self.rng.uniform(0, 180)
            )
        return local

    def plan_work(self) -> None:
        for day in range(HISTORY_DAYS):
            date = self.day0 + dt.timedelta(days=day)
            for brand, (early, from_day, later) in FILING_DAYS.items():
                if date.weekday() in (later if day >= from_day else early):
                    self.schedule(self.at_on(day, hours=(9, 17)), lambda b=brand, d=day: self.file(b, d))

    def run_events(self) -> None:
        while self.events:
            event = heapq.heappop(self.events)
            self.stamp.mark()
            self.current = event.at
            event.run()
            self.stamp.apply(event.at, self.now)

    def file(self, brand_name: str, day: int) -> None:
        from listings.matching import detection_set_state
        from takedowns.services.complaints import Filer, Statements, complaint_file

        brand, manager, at = self.brands[brand_name], self.managers[brand_name], self.current
        pending = [
            d
            for d in Detection.objects.filter(
                brand=brand, state=Detection.State.NEW, listing__external_id__startswith="H-",
                created_at__lt=at - dt.timedelta(hours=12), listing__status=Listing.Status.ACTIVE,
            ).select_related("listing", "listing__seller").order_by("-score", "pk")
            if d.listing_id not in self.filed
        ]  # fmt: skip
        chosen, dismissed = [], []
        for detection in pending:
            row = self.planned[detection.listing.external_id]
            if not row["infringing"]:
                dismissed.append(detection)
                continue
            seller = detection.listing.seller.external_id
            limit = 99 if seller in ("S-7900", "S-7901") else MAX_TAKEDOWNS_PER_SELLER
            if self.takedowns.get(seller, 0) >= limit or detection.score < 0.45:
                continue  # left for later (or never): a brand's backlog of weaker detections
            if len(chosen) < MAX_ITEMS_PER_NOTICE and detection.listing_id not in {d.listing_id for d in chosen}:
                chosen.append(detection)
                self.takedowns[seller] = self.takedowns.get(seller, 0) + 1
        for detection in dismissed[:3]:
            detection_set_state(actor=manager, detection=detection, state="dismissed", reason=FALSE_ALARM)
            Detection.objects.filter(pk=detection.pk).update(updated_at=at)
        if not chosen:
            return
        items = []
        for detection in chosen:
            row = self.planned[detection.listing.external_id]
            self.filed.add(detection.listing_id)
            why = WHY[brand_name].format(spelling=row["spelling"], product=row["product"], price=row["price"])
            items.append({"detection": detection.pk, "right": self.rights[brand_name].pk,
                          "infringement_type": "counterfeit", "explanation": why})  # fmt: skip
        complaint = complaint_file(
            actor=manager, brand=brand, items=items, source="detections",
            filer=Filer(name=manager.get_full_name(), email=manager.email, organisation=brand.legal_name),
            statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name=manager.get_full_name()),
        ).complaint  # fmt: skip
        self.date_filing(complaint, at)
        for item in complaint.items.select_related("listing", "listing__seller"):
            decide_at = self.working_time(at, (3, 40))
            self.schedule(decide_at, lambda i=item: self.decide(i))

    def date_filing(self, complaint: Any, at: dt.datetime) -> None:
        from takedowns.models import Complaint, ComplaintItem

        Complaint.objects.filter(pk=complaint.pk).update(created_at=at, updated_at=at, submitted_at=at, signed_at=at)
        for item in ComplaintItem.objects.filter(complaint=complaint):
            due = at + (item.due_at - item.submitted_at) if item.due_at and item.submitted_at else None
            snapshot = {**item.snapshot, "captured_at": at.isoformat()}
            ComplaintItem.objects.filter(pk=item.pk).update(
                created_at=at, updated_at=at, submitted_at=at, due_at=due, snapshot=snapshot
            )
        Detection.objects.filter(complaint_items__complaint=complaint).update(updated_at=at)

    def decide(self, item: Any) -> None:
        from takedowns.models import ComplaintItem
        from takedowns.services.moderation import item_decide

        at = self.current
        item.refresh_from_db()
        if item.state not in ("submitted", "in_review"):
            return
        row = self.planned.get(item.listing.external_id, {})
        roll = self.rng.random()
        if row.get("contested") or roll < 0.86:
            action, template = "approve", "counterfeit_confirmed" if roll < 0.6 else "logo_misuse"
        elif roll < 0.95:
            action, template = "reject", "no_infringement_shown"
        elif at > self.now - dt.timedelta(days=12):
            action, template = "request_info", "need_proof_of_copying"
        else:
            action, template = "approve", "counterfeit_confirmed"
        old = ComplaintItem.objects.get(pk=item.pk).contest_until
        item_decide(actor=self.maya, item=item, action=action, template=template)
        self.date_decision(item, at, old_contest=old)
        if action == "approve" and row.get("contested"):
            self.schedule(self.working_time(at, (20, 60)), lambda i=item: self.contest(i))

    def date_decision(self, item: Any, at: dt.datetime, *, old_contest: dt.datetime | None = None) -> None:
        date_decision(item.pk, at, old_contest=old_contest)

    def contest(self, item: Any) -> None:
        from takedowns.models import ComplaintItem
        from takedowns.services.complaints import add_business_days
        from takedowns.services.sellers import counter_notice_file

        at = self.current
        # The service checks the contest window against the real clock: open it for the call, then put
        # back the deadline the (back-dated) decision gave.
        contest_until = ComplaintItem.objects.get(pk=item.pk).contest_until
        ComplaintItem.objects.filter(pk=item.pk).update(contest_until=self.now + dt.timedelta(days=1))
        counter_notice_file(
            actor=self.seller_user, item=item, kind="counter_notice",
            statement="We bought these bags from a licensed factory; the listing does not use the AURORA logo.",
            contact_name="LuxDeals4U Trading Co.", contact_email="legal@luxdeals4u.example",
            contact_address="88 Nathan Road, Kowloon, Hong Kong", signature_name="Wei Chen",
            good_faith_mistake=True, consent_jurisdiction=True,
        )  # fmt: skip
        respond_until = add_business_days(at, settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS)
        ComplaintItem.objects.filter(pk=item.pk).update(
            respond_until=respond_until, contest_until=contest_until, updated_at=at
        )
        # The first is reinstated (Aurora did not answer in time); the second upheld (Aurora showed a case).
        action = "reinstate" if item.listing.first_seen_at < self.day0 + dt.timedelta(days=30) else "uphold"
        self.schedule(self.working_time(respond_until, (1, 6)), lambda i=item, a=action: self.close(i, a))

    def close(self, item: Any, action: str) -> None:
        from takedowns.services.moderation import item_decide

        at = self.current
        reason = (
            "The rights holder did not show legal action within the response window: the listing is reinstated."
            if action == "reinstate"
            else "The rights holder reported proceedings before the Milan court; the removal stands meanwhile."
        )
        item_decide(actor=self.maya, item=item, action=action, reason=reason)
        self.date_decision(item, at)

    def run(self) -> None:
        plan = self.plan_listings()
        self.ingest(plan)
        self.date_catalogue()
        self.plan_work()
        self.run_events()
