"""The Atom feed: drafts opened for comment and consultation results made public."""

from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator
from flask_babel import gettext as _

from portal.drafts import results
from portal.drafts import services as drafts
from portal.i18n import is_english, localized
from portal.models import utcnow
from portal.sanitize import xml_safe
from portal.urls import external_url

MAX_ENTRIES = 50


def _entries() -> list[tuple[datetime, str, str, str, str]]:
    """(when, id, title, link, summary), newest first."""
    now = utcnow()
    found = []
    for draft in drafts.public_drafts():
        when = draft.opens_at or draft.created_at
        if when > now:
            continue  # announced on the day the consultation opens
        title = localized(draft, "title")
        link = external_url("drafts.show", slug=draft.slug)
        found.append(
            (
                when,
                f"{link}#consultation",
                _("征求意见：%(title)s", title=title),
                link,
                localized(draft, "summary"),
            )
        )
    for draft in results.published_drafts():
        title = localized(draft, "title")
        link = external_url("drafts.results_page", slug=draft.slug)
        found.append(
            (
                draft.results_published_at,
                f"{link}#{draft.results_published_at:%Y%m%d%H%M%S}",
                _("征求意见结果：%(title)s", title=title),
                link,
                _("起草小组公开了对意见的处理情况和答复。"),
            )
        )
    found.sort(key=lambda entry: entry[0], reverse=True)
    return found[:MAX_ENTRIES]


def build_feed() -> bytes:
    feed = FeedGenerator()
    home = external_url("main.index")
    feed.id(home)
    feed.title(_("江州市人大常委会 · 立法意见征集"))
    feed.subtitle(_("新的征求意见草案和征求意见结果"))
    feed.link(href=external_url("main.feed"), rel="self")
    feed.link(href=home, rel="alternate")
    feed.language("en" if is_english() else "zh-CN")
    entries = _entries()
    feed.updated(entries[0][0] if entries else utcnow())
    for when, entry_id, title, link, summary in reversed(entries):
        entry = feed.add_entry()
        entry.id(entry_id)
        # Titles and summaries stored before input was cleaned may hold characters XML 1.0
        # forbids (a vertical tab pasted from Word): lxml would refuse the whole feed.
        entry.title(xml_safe(title))
        entry.link(href=link)
        entry.updated(when)
        entry.published(when)
        if summary:
            entry.summary(xml_safe(summary))
    return feed.atom_str(pretty=True)
