"""Browser test helpers shared by tests/e2e."""


def full_page_shot(page, path):
    """Save a full-page screenshot of `page` at `path` and leave the page scrolled as it was.

    Chromium grows the viewport to the page's height for the shot. When a text field has the
    focus (a field just filled), about one shot in four leaves the page scrolled to its bottom
    and keeps the field's own scroll position pending: the next click's mousedown focuses
    its target, the pending scroll runs, and the mouseup lands on another element, so the
    click does nothing (a "Complete sale" that never posts). Scrolling back explicitly settles
    it (measured: 11 of 40 clicks lost without this, none of 40 with it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    scrolled = page.evaluate("[window.scrollX, window.scrollY]")
    page.screenshot(path=str(path), full_page=True)
    page.evaluate("([x, y]) => window.scrollTo(x, y)", scrolled)
