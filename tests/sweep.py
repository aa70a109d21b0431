"""The page sweep: every product page, for every role that may open it, in a real browser at a
desktop width and at a phone width, checked with axe-core for WCAG 2.2 A and AA, for sideways
scrolling outside a table region, and for any asset that failed to load.

The pages come from the access matrix (one instance of each URL pattern, built from the gates
world), so a page added with its matrix row is swept without touching this module. The pages a
person or a care home manager opens on a phone are also swept at 320 px, with the data that makes
them show their forms (a shared shortlist, an open bid form, a bed hold awaiting confirmation).

One Chromium is shared; pages of the same run load side by side in a few tabs.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, tender_award, tender_close_and_evaluate, tender_publish
from blockbeds.services import block_offer_decline
from dashboards.registry import DASHBOARDS
from fairness.services import shortlist_share

from .browser import CHROMIUM, CHROMIUM_ARGS, REPORT_CSP_VIOLATIONS
from .factories import PlacementRequestFactory, UserFactory
from .gates_world import World
from .test_access_matrix import MATRIX, QUERY, ROLES

AXE_SOURCE = (Path(settings.BASE_DIR) / "node_modules/axe-core/axe.min.js").read_text()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}

DESKTOP, PHONE, SMALL_PHONE = 1280, 375, 320
# The roles that open pages (API clients have no pages).
PAGE_ROLES = ["anon", "broker_a", "commissioner_a", "broker_b", "commissioner_b", "provider_a", "provider_b"]
# Machine answers rather than pages: JSON, a PDF, an uploaded document, health probes, metrics.
# The API documentation is swept on its own below, as every visitor sees the same page.
NOT_PAGES = {
    "schema",
    "healthz",
    "health_live",
    "health_ready",
    "metrics",
    "contracts:agreement_pdf",
    "providers:document_download",
    "api-docs",
}
# Pages a person or a care home manager opens on a phone: swept at 320 px too.
PHONE_FIRST = {
    "fairness:shortlist",
    "bidding:invitation_list",
    "bidding:invitation_detail",
    "fairness:provider_award",
    "provider_home",
}
# Tabs loading at once in the shared browser: axe is the slow part and the machine has few cores.
TABS = 3


@dataclass(frozen=True)
class Visit:
    """One page, as one role, at one width; `status` is the answer the page itself must give."""

    name: str
    role: str
    path: str
    width: int
    status: int = 200
    note: str = ""
    # False where a page's console is not the service's to keep clean (see admin_visits).
    console: bool = True

    def label(self) -> str:
        note = f" [{self.note}]" if self.note else ""
        return f"{self.path} ({self.name}{note}) as {self.role} at {self.width} px"


@dataclass
class PhoneWorld:
    """Paths of the phone-first pages in the states where they show their forms."""

    paths: list = field(default_factory=list)


def _published_tender(world: World, case_reference: str) -> Tender:
    broker = world.users["broker_a"]
    request = PlacementRequestFactory(
        commissioner=broker.organisation,
        created_by=broker,
        case_reference=case_reference,
        max_weekly_rate=Decimal("900.00"),
    )
    # The gates world's block contract has a void bed this request fits: the broker declines it first.
    block_offer_decline(request=request, actor=broker, reason="The person wants a home nearer family.")
    return tender_publish(actor=broker, request=request)


def _evaluated_with_bids(world: World, case_reference: str) -> tuple[Tender, dict[str, Bid]]:
    tender = _published_tender(world, case_reference)
    bids = {}
    for role, fee in [("provider_a", "820.00"), ("provider_b", "760.00")]:
        user = world.users[role]
        invitation = tender.invitations.get(care_home__provider=user.organisation)
        bids[role] = bid_submit(
            actor=user,
            tender=tender,
            care_home=invitation.care_home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate() + timedelta(days=2),
            needs_confirmed=True,
        )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    return Tender.objects.get(pk=tender.pk), {role: Bid.objects.get(pk=bid.pk) for role, bid in bids.items()}


def build_phone_world(world: World) -> list[tuple[str, str, str, str]]:
    """The phone-first pages with their forms showing, as (name, role, path, note)."""
    broker = world.users["broker_a"]
    shortlisted, bids = _evaluated_with_bids(world, "A-PHONE-CHOICE")
    _link, token = shortlist_share(
        actor=broker, tender=shortlisted, bids=list(bids.values()), recipient="The person's daughter"
    )
    won, won_bids = _evaluated_with_bids(world, "A-PHONE-HOLD")
    choice = "The person chose this home."
    tender_award(actor=broker, tender=won, bid=won_bids["provider_a"], reason=choice, top_up_payer="")
    lost, lost_bids = _evaluated_with_bids(world, "A-PHONE-LOST")
    tender_award(actor=broker, tender=lost, bid=lost_bids["provider_b"], reason=choice, top_up_payer="")
    open_tender = _published_tender(world, "A-PHONE-BID")
    open_invitation = open_tender.invitations.get(care_home__provider=world.users["provider_a"].organisation)
    return [
        ("fairness:shortlist", "anon", reverse("fairness:shortlist", args=[token]), "the person's shortlist"),
        (
            "fairness:provider_award",
            "provider_a",
            reverse("fairness:provider_award", args=[won_bids["provider_a"].pk]),
            "bed hold to confirm",
        ),
        (
            "fairness:provider_award",
            "provider_a",
            reverse("fairness:provider_award", args=[lost_bids["provider_a"].pk]),
            "standstill and challenge",
        ),
        (
            "bidding:invitation_detail",
            "provider_a",
            reverse("bidding:invitation_detail", args=[open_invitation.pk]),
            "bid form",
        ),
    ]


def matrix_paths(role: str, world: World) -> list[tuple[str, str]]:
    """(pattern name, path) of every page `role` may open, one instance per pattern."""
    column = ROLES.index(role)
    found = []
    for name, (method, args, cells) in MATRIX.items():
        if method != "GET" or name in NOT_PAGES or name.startswith("api-") or cells.split()[column] != "200":
            continue
        if name == "dashboards:dashboard":
            found += [(name, reverse(name, args=[slug])) for slug in DASHBOARDS]
            continue
        found.append((name, reverse(name, args=[world.ids.get(arg, arg) for arg in args]) + QUERY.get(name, "")))
    return found


def page_visits(roles: list[str], world: World) -> list[Visit]:
    """Every matrix page of `roles` at the desktop and the phone width, phone-first pages at 320 px too."""
    visits = []
    for role in roles:
        for name, path in matrix_paths(role, world):
            widths = [DESKTOP, PHONE] + ([SMALL_PHONE] if name in PHONE_FIRST else [])
            visits += [Visit(name, role, path, width) for width in widths]
    return visits


def phone_world_visits(phone_pages, roles: list[str]) -> list[Visit]:
    return [
        Visit(name, role, path, width, note=note)
        for name, role, path, note in phone_pages
        if role in roles
        for width in (DESKTOP, PHONE, SMALL_PHONE)
    ]


def error_page_visits() -> list[Visit]:
    """The error pages a visitor meets: an unknown or expired shortlist link, a page of another role."""
    return [
        visit
        for width in (DESKTOP, PHONE)
        for visit in (
            Visit(
                "fairness:shortlist", "anon", reverse("fairness:shortlist", args=["bad-token"]), width, 404, "not found"
            ),
            Visit("provider_home", "broker_a", reverse("provider_home"), width, 403, "forbidden"),
        )
    ]


def api_docs_visits() -> list[Visit]:
    return [Visit("api-docs", "anon", reverse("api-docs"), width) for width in (DESKTOP, PHONE)]


# The back office's busiest lists (filters, actions, sealed values) and the forms people fill in there.
ADMIN_CHANGELISTS = [
    "organisations.user",
    "providers.carehome",
    "providers.admission",
    "placements.placementrequest",
    "bidding.bid",
    "quality.rating",
    "contracts.serviceagreement",
    "core.auditevent",
]


def admin_visits(world: World, back_office) -> list[Visit]:
    """The back office's index, its busiest changelists, a change form and an add form."""
    visits = [Visit("admin:index", "back_office", reverse("admin:index"), DESKTOP)]
    for label in ADMIN_CHANGELISTS:
        name = "admin:{}_changelist".format(label.replace(".", "_"))
        visits.append(Visit(name, "back_office", reverse(name), DESKTOP))
    forms = [
        ("admin:organisations_user_change", [world.users["broker_a"].pk]),
        ("admin:providers_carehome_change", [world.ids["home"]]),
        ("admin:auth_group_add", []),
    ]
    # Django's filter boxes for many-to-many fields (SelectFilter2) write inline styles, which the
    # service's Content Security Policy blocks and the console reports; axe, the layout and every
    # asset are still checked on these forms.
    visits += [Visit(name, "back_office", reverse(name, args=args), DESKTOP, console=False) for name, args in forms]
    return visits


def back_office_user():
    return UserFactory(organisation=None, role="", is_staff=True, is_superuser=True, email="admin@backoffice.example")


def session_cookies(world: World, roles: list[str], extra_users: dict | None = None) -> dict[str, str | None]:
    """The session cookie value of each role (None: signed out), made without the sign-in form."""
    users = {**world.users, **(extra_users or {})}
    cookies = {}
    for role in roles:
        if role == "anon":
            cookies[role] = None
            continue
        client = Client()
        client.force_login(users[role])
        cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


# Runs in the page: the page's own sideways overflow, the elements that stick out past the right
# edge outside any scrolling region, and any element that scrolls sideways without being a table
# region (focusable, a role and a label, holding a table).
LAYOUT_PROBE = """
() => {
  const root = document.documentElement;
  const viewport = root.clientWidth;
  const describe = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) {
      text += "." + el.className.trim().split(/\\s+/).slice(0, 2).join(".");
    }
    return `${text} (${Math.round(el.getBoundingClientRect().width)} px wide)`;
  };
  const scrolls = (el) => {
    const style = getComputedStyle(el);
    return ["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
  };
  const insideScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const sticking = [];
  const badRegions = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (scrolls(el)) {
      const ok = el.getAttribute("role") === "region" && el.getAttribute("tabindex") === "0"
        && (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) && el.querySelector("table");
      if (!ok) badRegions.push(describe(el));
    }
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > viewport + 1 && !insideScroller(el)) {
      const child = [...el.children].some((c) => c.getBoundingClientRect().right > viewport + 1);
      if (!child) sticking.push(describe(el));
    } else if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible"
               && box.right + el.scrollWidth - el.clientWidth > viewport + 1 && !insideScroller(el)) {
      sticking.push(describe(el) + ": its text");
    }
  }
  return {
    pageWidth: root.scrollWidth, viewport, sticking: sticking.slice(0, 4), badRegions: badRegions.slice(0, 4)
  };
}
"""


def _axe_lines(results: dict) -> list[str]:
    lines = []
    for violation in results["violations"]:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:3]
        lines.append(f"axe {violation['id']} ({violation['impact']}, {len(violation['nodes'])} elements): {targets}")
    return lines


async def _check(context, base_url: str, visit: Visit, *, product_page: bool) -> list[str]:
    page = await context.new_page()
    problems: list[str] = []
    if visit.console:
        page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed to load {request.url}: {request.failure}"))

    def answered(response):
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"asset {response.url} answered {response.status}")

    page.on("response", answered)
    try:
        await _inspect(page, base_url, visit, problems, product_page=product_page)
    except Exception as error:  # a page that times out is reported with what it showed
        problems.append(f"could not be checked: {str(error).splitlines()[0]}")
    finally:
        await page.close()
    # A page that answers an error status on purpose logs it as a failed load: not an asset.
    return [
        problem
        for problem in problems
        if not (visit.status != 200 and problem.startswith("console error: Failed to load resource"))
    ]


async def _inspect(page, base_url: str, visit: Visit, problems: list[str], *, product_page: bool) -> None:
    await page.set_viewport_size({"width": visit.width, "height": 800})
    # The API reference loads Swagger UI's large bundle; other pages are small.
    timeout = 120000 if visit.name == "api-docs" else 30000
    response = await page.goto(base_url + visit.path, wait_until="load", timeout=timeout)
    if response is None or response.status != visit.status:
        problems.append(f"answered {response.status if response else 'nothing'}, expected {visit.status}")
        return
    if visit.name == "api-docs":
        await page.wait_for_selector("body[data-docs-ready]", state="attached", timeout=120000)
    await page.evaluate(AXE_SOURCE)
    problems += _axe_lines(await page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS))
    layout = await page.evaluate(LAYOUT_PROBE)
    if layout["pageWidth"] > layout["viewport"]:
        problems.append(
            f"scrolls sideways: {layout['pageWidth']} px wide in a {layout['viewport']} px window; "
            f"sticking out: {layout['sticking']}"
        )
    if product_page and layout["badRegions"]:
        problems.append(f"scrolls sideways outside a table region: {layout['badRegions']}")


async def _sweep(base_url: str, visits: list[Visit], cookies: dict[str, str | None], product: set) -> dict:
    from playwright.async_api import async_playwright

    found: dict[str, list[str]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = {}
        for role, cookie in cookies.items():
            context = await browser.new_context(locale="en-GB")
            await context.add_init_script(script=REPORT_CSP_VIOLATIONS)
            if cookie is not None:
                await context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
            contexts[role] = context
        tabs = asyncio.Semaphore(TABS)

        async def one(visit: Visit):
            async with tabs:
                problems = await _check(contexts[visit.role], base_url, visit, product_page=visit in product)
            if problems:
                found[visit.label()] = problems

        await asyncio.gather(*(one(visit) for visit in visits))
        await browser.close()
    return found


def sweep(base_url: str, visits: list[Visit], cookies: dict[str, str | None], product: set | None = None) -> str:
    """Visit every page; returns a report of what failed on which page (empty when all passed)."""
    found = asyncio.run(_sweep(base_url, visits, cookies, set(visits) if product is None else product))
    return "\n".join(
        f"{label}:\n" + "\n".join(f"    {problem}" for problem in problems) for label, problems in sorted(found.items())
    )
