"""The website snippet (`sito-web`): visits page by page, product views, forms, checkouts.

Rows look like what analytics.js sends and the collector stores: a `page`
row per page view with the page in `properties` and `context.page`, the
campaign in `context.campaign` on a tagged landing page, the browser's user
agent, and tracks and identifies on the page the visitor is on.
"""

from __future__ import annotations

from typing import Any

from percorso.demo import social
from percorso.demo.calendar import END, SECOND
from percorso.demo.catalogue import (
    BROWSE,
    BY_SKU,
    CART,
    CATEGORIES,
    CHECKOUT,
    CONTENT,
    FORM_PAGES,
    HOME,
    PRODUCT_PAGES,
    THANKS,
    FormId,
    Page,
)
from percorso.demo.people import Device, Person
from percorso.demo.rows import IdentifierKind, dumps
from percorso.demo.traffic import ENTRIES, INTERNAL, USER_AGENTS, ad_campaign, landing_query
from percorso.demo.world import World

LIBRARY = {"name": "analytics.js", "version": "next-1.74.0"}

Line = tuple[str, str, float, int]
"""An order line: sku, name, unit price, quantity."""


def products_payload(lines: list[Line]) -> list[dict[str, Any]]:
    return [
        {"product_id": sku, "sku": sku, "name": name, "price": price, "quantity": qty}
        for sku, name, price, qty in lines
    ]


def total(lines: list[Line]) -> float:
    return round(sum(price * qty for _, _, price, qty in lines), 2)


class Visit:
    """One session on the website, on one browser, from one entry."""

    def __init__(
        self,
        world: World,
        person: Person,
        device: Device,
        start: int,
        entry: int,
        *,
        campaign: str | None = None,
        click: str | None = None,
        ajs_uid: str | None = None,
    ) -> None:
        self.world = world
        self.person = person
        self.device = device
        self.now = start
        self.entry = entry
        self.over = start >= END
        self.page_: Page | None = None
        self.url = ""
        self.context: dict[str, Any] = {}
        self.context_json = ""
        self.pages = 0
        landing = ENTRIES[entry]
        self._referrer = landing.referrer
        self._query = landing_query(landing, campaign, click, ajs_uid)
        self._campaign = (
            {"source": landing.utm_source, "medium": landing.utm_medium, "name": campaign}
            if landing.utm_source
            else None
        )
        self._ajs_uid = ajs_uid
        self._locale = "it-IT" if person.language == "it" else ("en-GB", "en-US")[person.index % 2]
        self._user_agent = USER_AGENTS[device.user_agent]
        self._device_class = world.classifier.device(device.user_agent)

    @property
    def on_landing(self) -> bool:
        return self.pages == 1

    def _entry_key(self) -> int:
        return self.entry if self.on_landing else INTERNAL

    def _emit(
        self,
        kind: str,
        event: str,
        props: dict[str, Any],
        traits: str = "{}",
        identifiers: tuple[tuple[IdentifierKind, str], ...] = (),
    ) -> None:
        world = self.world
        channel = world.classifier.web_channel(self._entry_key(), event, self.context, props)
        world.rows.add(
            self.person,
            self.now,
            "sito-web",
            kind,
            event,
            channel=channel,
            anonymous_id=self.device.anonymous_id,
            user_id=self.device.user_id,
            device=self._device_class,
            properties=dumps(props),
            traits=traits,
            context=self.context_json,
            identifiers=identifiers,
        )

    def page(self, page: Page) -> bool:
        """View a page; False once the visit has run past the end of history."""
        if self.over:
            return False
        rng = self.world.rng
        if self.pages:
            self.now += int((5 + rng.expovariate(1 / 40)) * SECOND)
            self._referrer = self.url
            self._query = ""
        if self.now >= END:
            self.over = True
            return False
        self.pages += 1
        self.page_ = page
        self.url = page.url + self._query
        info: dict[str, Any] = {
            "path": page.path,
            "referrer": self._referrer or "",
            "title": page.title,
            "url": self.url,
        }
        if self._query:
            info["search"] = self._query
        context: dict[str, Any] = {
            "library": LIBRARY,
            "locale": self._locale,
            "page": info,
            "userAgent": self._user_agent,
        }
        if self._campaign and self.pages == 1:
            context["campaign"] = self._campaign
        self.context = context
        self.context_json = dumps(context)
        self._emit("page", "page_view", info)
        if self.pages == 1 and self._ajs_uid and self.device.user_id != self._ajs_uid:
            self.identify(self._ajs_uid, {"email": self._ajs_uid})
        return True

    def track(self, event: str, props: dict[str, Any], *, seconds: float = 8.0) -> bool:
        if self.over or self.page_ is None:
            return False
        self.now += int((1 + self.world.rng.expovariate(1 / seconds)) * SECOND)
        if self.now >= END:
            self.over = True
            return False
        self._emit("track", event, props)
        return True

    def identify(self, user_id: str, traits: dict[str, Any]) -> None:
        """The snippet's identify call: this browser belongs to `user_id` from now on."""
        self.device.user_id = user_id
        self.now += SECOND
        self._emit("identify", "identify", {}, dumps(traits), (("email", user_id),))

    # -- flows ---------------------------------------------------------------------------
    def wander(self, pages: int, focus: tuple[Page, ...] = ()) -> None:
        rng = self.world.rng
        for _ in range(pages):
            pool = focus if focus and rng.random() < 0.6 else BROWSE
            page = rng.choice(pool)
            if not self.page(page):
                return
            if page.sku is not None:
                self.view_product(page.sku, already_on_page=True)

    def view_product(self, sku: str, *, already_on_page: bool = False) -> bool:
        page = PRODUCT_PAGES[sku]
        if not already_on_page and not self.page(page):
            return False
        product = BY_SKU[sku]
        return self.track(
            "product_viewed",
            {
                "product_id": sku,
                "sku": sku,
                "name": product.name,
                "category": product.category,
                "price": product.price,
                "currency": "EUR",
            },
        )

    def submit_form(self, form_id: FormId, abandon: float) -> bool:
        """Open a form page and send it, or give up (mobile visitors give up more)."""
        if not self.page(FORM_PAGES[form_id]):
            return False
        if self.world.rng.random() < abandon:
            return False
        return self.track("form_submitted", {"form_id": form_id}, seconds=60.0)

    def checkout(
        self, order_id: str, lines: list[Line], abandon: float, email: str, traits: dict[str, Any]
    ) -> bool:
        """Cart, checkout and the order; False when the visitor leaves on the way.

        Paying needs an email address, so a completed checkout identifies the browser.
        """
        for sku, name, price, qty in lines:
            if not self.view_product(sku, already_on_page=self.page_ is PRODUCT_PAGES[sku]):
                return False
            if not self.track(
                "product_added",
                {
                    "product_id": sku,
                    "sku": sku,
                    "name": name,
                    "price": price,
                    "quantity": qty,
                    "currency": "EUR",
                },
            ):
                return False
        value = total(lines)
        products = products_payload(lines)
        if not self.page(CART):
            return False
        if not self.track(
            "checkout_started", {"value": value, "currency": "EUR", "products": products}
        ):
            return False
        if not self.page(CHECKOUT) or self.world.rng.random() < abandon:
            return False
        if self.device.user_id != email:
            self.identify(email, traits)
        if not self.track(
            "order_completed",
            {
                "order_id": order_id,
                "total": value,
                "revenue": round(value / 1.22, 2),
                "currency": "EUR",
                "products": products,
            },
            seconds=90.0,
        ):
            return False
        self.page(THANKS)
        return True


def landing_page(visit: Visit, kind: str) -> Page:
    """Where a visit of this kind of entry lands: ads on products, articles from referrals."""
    rng = visit.world.rng
    if kind in ("paid", "paid-social"):
        return rng.choice((*PRODUCT_PAGES.values(), *CATEGORIES))
    if kind == "referral":
        return rng.choice(CONTENT)
    if kind in ("search", "social"):
        return rng.choice((HOME, *CONTENT, *PRODUCT_PAGES.values()))
    return HOME


def land(
    world: World,
    person: Person,
    device: Device,
    start: int,
    entry: int,
    *,
    page: Page | None = None,
    campaign: str | None = None,
    ajs_uid: str | None = None,
) -> Visit:
    """Start a visit from an entry (an ad click first, for sponsored posts) on its landing page."""
    rng = world.rng
    info = ENTRIES[entry]
    tag = campaign or (ad_campaign(info, start) if info.utm_source else None)
    click = f"{rng.getrandbits(64):016x}" if info.click_id else None
    if info.kind == "paid-social":
        social.ad_click(world, person, device, start - 3 * SECOND, info.utm_source or "", tag or "")
    visit = Visit(world, person, device, start, entry, campaign=tag, click=click, ajs_uid=ajs_uid)
    first = page or landing_page(visit, info.kind)
    if visit.page(first) and first.sku is not None:
        visit.view_product(first.sku, already_on_page=True)
    return visit
