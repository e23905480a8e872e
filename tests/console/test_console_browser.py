"""The dev console in a real browser: it lists the functions, sends events, fires schedules, shows the flow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

TIMEOUT_MS = 15_000
ORDER = '{"order_id": "o-3", "customer": "cy", "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}]}'


@pytest.fixture(scope="module")
def page(browser_context: Any, console_shop: Server) -> Iterator[Any]:
    page = browser_context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(console_shop.url + "/_kfn/")
    page.wait_for_selector("#status:has-text('live')")
    yield page
    page.close()


def _feed_row(page: Any, function: str, event_type: str) -> Any:
    row = page.locator(f"#feed tbody tr[data-function='{function}'][data-type='{event_type}']")
    row.first.wait_for()
    return row.first


def test_the_console_lists_the_example_apps_functions(page: Any) -> None:
    names = page.locator("#functions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.function)"
    )
    assert set(names) == {"archive", "audit", "bill", "hello", "nightly_sweep", "notify", "ship"}
    bill = page.locator("#functions tbody tr[data-function='bill']")
    assert "com.example.invoice.created" in bill.inner_text()
    sweep = page.locator("#functions tbody tr[data-function='nightly_sweep']")
    assert "0 3 * * * (Europe/Berlin)" in sweep.inner_text() and "maintenance" in sweep.inner_text()


def test_sending_an_order_shows_the_reply_and_the_hops_that_follow(page: Any) -> None:
    page.select_option("#send select[name=target]", "bill")
    page.fill("#send input[name=type]", "com.example.order.created")
    page.fill("#send textarea[name=data]", ORDER)
    page.click("#send button[type=submit]")
    page.wait_for_selector("#reply-status:has-text('200')")
    assert "ce-type: com.example.invoice.created" in page.inner_text("#reply-body")
    assert '"total": 6.5' in page.inner_text("#reply-body")
    # the invoice goes on through the local broker: shipping emits, notify replies
    _feed_row(page, "ship", "com.example.invoice.created")
    _feed_row(page, "notify", "com.example.shipment.dispatched")
    _feed_row(page, "audit", "com.example.customer.notified")
    page.wait_for_selector(
        "#trace li[data-function='bill'] li[data-function='ship'] li[data-function='notify']"
    )


def test_a_structured_event_gets_a_structured_reply(page: Any) -> None:
    page.select_option("#send select[name=target]", "bill")
    page.check("#send input[name=mode][value=structured]")
    page.fill("#send textarea[name=data]", ORDER)
    page.click("#send button[type=submit]")
    page.wait_for_selector("#reply-body:has-text('application/cloudevents+json')")
    assert '"type": "com.example.invoice.created"' in page.inner_text("#reply-body")
    page.check("#send input[name=mode][value=binary]")


def test_a_failure_shows_its_problem_details(page: Any) -> None:
    page.select_option("#send select[name=target]", "bill")
    page.fill(
        "#send textarea[name=data]",
        '{"order_id": "o-2", "customer": "blocked", "lines": [{"sku": "x", "quantity": 1, "unit_price": 1}]}',
    )
    page.click("#send button[type=submit]")
    page.wait_for_selector("#reply-status:has-text('422')")
    failure = page.locator("#failures li[data-function='bill']").first
    failure.wait_for()
    assert "urn:kfn:problem:dropped" in failure.inner_text()
    assert "may not order" in failure.inner_text()


def test_firing_a_schedule_shows_its_delivery(page: Any) -> None:
    assert page.inner_text("#schedules tbody tr[data-schedule='nightly_sweep']").count("T") >= 1
    page.click("#schedules button[data-fire='nightly_sweep']")
    page.wait_for_selector("#fire-result:has-text('answered 202')")
    _feed_row(page, "nightly_sweep", "dev.knative.sources.ping")
    _feed_row(page, "audit", "com.example.carts.expired")


def test_a_screenshot_of_the_console_is_kept(page: Any, artifacts: Path) -> None:
    page.select_option("#send select[name=target]", "")
    page.fill("#send textarea[name=data]", ORDER)
    page.click("#send button[type=submit]")
    page.wait_for_selector("#reply-status:has-text('200')")
    _feed_row(page, "notify", "com.example.shipment.dispatched").click()
    page.wait_for_selector("#trace li[data-function='notify']")
    shot = artifacts / "console.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
