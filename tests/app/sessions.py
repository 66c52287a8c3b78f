"""Many advisor sessions at once against one served app: one Chromium, one context each.

Used by tests/app/test_concurrent_sessions.py (what each session must see) and by
benchmarks/concurrent_sessions.py (how long each waited). A session opens the app in its
language (``?lang=fr``), searches its client on the client page, waits for the lever cards
showing its client's first lever, then for the page's run to finish, and reads back what the
screen shows. Sessions run concurrently (async Playwright, ``asyncio.gather``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.levers import Advice, Advisor
from app import render
from app.texts import LANGUAGE_NAMES, Language, text
from tests.app.test_browser import CHROMIUM_FLAGS, served

__all__ = ["Seen", "Visit", "pick_visits", "problems", "run_sessions", "served"]

TIMEOUT_MS = 300_000  # one session's longest wait for a step (20 sessions share 2 cores)
MAX_LEVERS = 3  # lever cards the client page shows at most


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """One advisor's session: the client searched, the language and the first lever's text."""

    client_id: str
    lang: Language
    first_lever: str  # the first action of the client's first lever, as the card shows it


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """What one session's screen showed once its page had finished running.

    ``seconds`` runs from navigation to the first lever card showing the client's lever
    (``None``: never shown, see ``error``).
    """

    visit: Visit
    seconds: float | None
    error: str | None = None
    profile: str = ""  # the profile card's title ("Profile · C0000012")
    search: str = ""  # the search box's value
    selected: str = ""  # the client selector's value
    cards: tuple[str, ...] = ()  # each lever card's text, rank order
    body: str = ""  # the whole page's text
    n_exceptions: int = 0  # st.exception boxes on the page
    url: str = ""
    screenshot: Path | None = None
    steps: dict[str, float] = field(default_factory=dict)  # seconds to the end of each step


def pick_visits(
    advisor: Advisor, n: int, *, skip: int = 1
) -> tuple[list[Visit], dict[str, Advice]]:
    """``n`` reference clients with levers after the first ``skip``, alternately en and fr.

    The client page opens on the first client (a session searching it would see its cards
    before searching), hence ``skip`` >= 1. First levers differ between visits, so a card
    names its client. Returns the visits and each client's advice, computed here (the oracle).
    """
    if advisor.reference is None:
        raise ValueError("advisor: must have reference clients. Got None.")
    visits: list[Visit] = []
    advice: dict[str, Advice] = {}
    for client_id in map(str, advisor.reference.index[skip:]):
        found = advisor.advise(client_id)
        lang: Language = "fr" if len(visits) % 2 else "en"
        first = found.levers[0].describe(lang)[0] if found.levers else None
        if first is None or any(v.first_lever == first for v in visits):
            continue
        visits.append(Visit(client_id=client_id, lang=lang, first_lever=first))
        advice[client_id] = found
        if len(visits) == n:
            return visits, advice
    raise ValueError(f"advisor: must have {n} reference clients with levers. Got {len(visits)}.")


def problems(seen: Seen, advice: Advice) -> list[str]:
    """What the session showed that is not its own client's, in its own language (empty: none).

    The oracle is ``advice`` (the same advisor asked in Python for this client) and the
    screen texts of app/texts.py in the session's language.
    """
    visit, lang = seen.visit, seen.visit.lang
    if seen.error is not None:
        return [f"never reached its lever cards: {seen.error.splitlines()[0]}"]
    other = next(code for code in LANGUAGE_NAMES if code != lang)
    title = text(f"levers.title.{advice.direction}", lang, product=advice.product_label[lang])
    checks = {
        "an exception on the page": seen.n_exceptions == 0 and "Traceback" not in seen.body,
        f"profile title {seen.profile!r}": seen.profile
        == f"{text('profile.title', lang)} · {visit.client_id}",
        f"search box {seen.search!r}": seen.search == visit.client_id,
        f"client selector {seen.selected!r}": seen.selected == visit.client_id,
        f"address {seen.url!r}": seen.url.endswith(f"lang={lang}"),
        f"page title not in {lang}": text("client.title", lang) in seen.body
        and text("client.title", other) not in seen.body,
        f"navigation not in {lang}": text("nav.portfolio", lang) in seen.body,
        f"levers title {title!r} missing": title in seen.body,
        f"{len(seen.cards)} lever cards, {len(advice.levers)} expected": len(seen.cards)
        == len(advice.levers),
    }
    found = [f"{visit.client_id} ({lang}): {what}" for what, ok in checks.items() if not ok]
    for rank, (card, lever) in enumerate(zip(seen.cards, advice.levers, strict=False), start=1):
        expected = [
            text("lever", lang, rank=rank),
            *lever.describe(lang),
            render.percent(lever.score_after, lang),
        ]
        missing = [line for line in expected if line not in card]
        if not card.startswith(expected[0]) or missing:
            found.append(f"{visit.client_id} ({lang}): lever card {rank} lacks {missing}: {card!r}")
    return found


# Streamlit marks the elements of the previous run data-stale="true" until the new run
# replaces them (and removes those left at its end); the status widget shows while it runs.
_SETTLED = """() => !document.querySelector('[data-testid=stStatusWidget]')
    && !document.querySelector('[data-stale="true"]')"""
_OWN_CARDS = """([lever, client]) => {
    const card = document.querySelector('.st-key-lever-1');
    const profile = document.querySelector('.st-key-profile h3');
    return !!card && !!profile && card.innerText.includes(lever)
        && profile.innerText.endsWith(client)
        && !card.querySelector('[data-stale="true"]')
        && !document.querySelector('.st-key-profile [data-stale="true"]');
}"""


async def _finished(page: Any) -> None:
    """Wait until the page's script run is over: no status widget, no stale element."""
    await page.wait_for_function(_SETTLED, polling=250)


async def _own_cards(page: Any, visit: Visit) -> None:
    """Wait until this run shows the client's profile and its first lever card (not stale)."""
    await page.wait_for_function(_OWN_CARDS, arg=[visit.first_lever, visit.client_id], polling=100)


async def _screenshot(page: Any, path: Path) -> None:
    """Whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    height = await page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)"
    )
    await page.set_viewport_size({"width": 1440, "height": max(1000, int(height) + 80)})
    await page.wait_for_timeout(1_500)  # charts re-layout to the new size
    await page.screenshot(path=str(path), full_page=True)


async def _read(page: Any) -> dict[str, Any]:
    cards = []
    for rank in range(1, MAX_LEVERS + 1):
        card = page.locator(f".st-key-lever-{rank}")
        if await card.count():
            cards.append(await card.first.inner_text())
    profile = page.locator(".st-key-profile h3")
    return {
        "profile": (await profile.first.inner_text()) if await profile.count() else "",
        "search": await page.locator(".st-key-client_search input").input_value(),
        "selected": await page.locator(".st-key-client input").input_value(),
        "cards": tuple(cards),
        "body": await page.locator("body").inner_text(),
        "n_exceptions": await page.locator("[data-testid=stException]").count(),
        "url": page.url,
    }


async def _session(browser: Any, url: str, visit: Visit, shot: Path | None) -> Seen:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    steps: dict[str, float] = {}  # seconds from navigation to the end of each step
    start = time.perf_counter()

    def done(step: str) -> None:
        steps[step] = time.perf_counter() - start

    try:
        page = await context.new_page()
        await page.goto(f"{url}/?lang={visit.lang}")
        await page.get_by_text(text("client.title", visit.lang)).first.wait_for()
        done("page")
        await page.locator(".st-key-profile h3").first.wait_for()  # the first client shown
        await _finished(page)  # the first run over, as an advisor would see it
        done("first run")
        search = page.locator(".st-key-client_search input")
        await search.fill(visit.client_id)
        await search.press("Enter")
        await _own_cards(page, visit)
        done("cards")
        await _finished(page)
        done("run")
        seen = await _read(page)
        if shot is not None:
            await _screenshot(page, shot)
        return Seen(visit=visit, seconds=steps["cards"], screenshot=shot, steps=steps, **seen)
    except Exception as exc:  # one session's failure is reported, not raised
        after = next(reversed(steps), "start")
        error = f"after step {after!r}: {type(exc).__name__}: {exc}"
        return Seen(visit=visit, seconds=None, error=error, steps=steps)
    finally:
        await context.close()


async def _all(
    url: str, visits: Sequence[Visit], chromium: str, shots: Mapping[int, Path]
) -> list[Seen]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            return list(
                await asyncio.gather(
                    *(_session(browser, url, visit, shots.get(i)) for i, visit in enumerate(visits))
                )
            )
        finally:
            await browser.close()


def run_sessions(
    url: str, visits: Sequence[Visit], chromium: str, shots: Mapping[int, Path] | None = None
) -> list[Seen]:
    """Drive one session per visit, all at once; ``shots`` maps a visit's index to a PNG path."""
    return asyncio.run(_all(url, visits, chromium, shots or {}))
