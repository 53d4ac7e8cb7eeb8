"""Demo content for a tenant, so that a new user sees a living site: pages, menus, posts, images,
and for the demo tenants a shop (``demo_shop``) with customers and orders (``demo_orders``)
and a forum (``demo_forum``).

Everything is written through the services (content, pages), so events, revisions
and the site cache behave as they do for an editor. Safe to run again: what
exists (found by slug) is left alone.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageOps

from apps.content import selectors as content_selectors
from apps.content import services as content
from apps.content.kinds import POST_KIND
from apps.content.selectors import Node, NodeStatus
from apps.content.services import NodeInput, TranslationInput
from apps.pages import selectors as pages_selectors
from apps.pages import services as pages
from apps.pages.selectors import PAGE_KIND
from apps.pages.services import MenuItemInput, PageInput, PageTemplate
from apps.people import selectors as people_selectors
from apps.people import services as people

from .demo_forum import seed_forum
from .demo_orders import seed_customers_and_orders
from .demo_shop import seed_shop

PALETTES = {
    "acme": [("#0b3d2e", "#8fd19e"), ("#1f4e79", "#9cc3e6"), ("#7a3b00", "#f6c177")],
    "globex": [("#3d0b37", "#e7a4d8"), ("#0b2d3d", "#a4d8e7"), ("#3d2f0b", "#e7d8a4")],
}


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{len(self.created)} created, {len(self.kept)} already there"


def demo_png(seed: int, *, palette: tuple[str, str], size=(1280, 720)) -> bytes:
    """An abstract picture (a gradient with a few rings), as PNG bytes.

    Wide enough that its renditions (made by the worker after the upload) fill a ``srcset``.
    """
    dark, light = palette
    gradient = Image.linear_gradient("L").rotate(35 + seed * 20, expand=False)
    image = ImageOps.colorize(gradient.resize(size), black=dark, white=light).convert("RGB")
    draw = ImageDraw.Draw(image)
    scale = size[0] / 640
    for index in range(3):
        radius = round((40 + ((seed * 37 + index * 53) % 90)) * scale)
        x = round(((seed * 131 + index * 211) % 640) * scale)
        y = round(((seed * 71 + index * 113) % 360) * scale)
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), outline=light, width=round(6 * scale)
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _upload(name: str, seed: int, palette: tuple[str, str], alt: dict[str, str]) -> UUID:
    upload = SimpleUploadedFile(name, demo_png(seed, palette=palette), content_type="image/png")
    return content.media_upload(file=upload, alt_text=alt).pk


def _node_by_slug(kind: str, slug: str) -> Node | None:
    return content_selectors.nodes(kind=kind).filter(translations__slug=slug).first()


# -- posts ----------------------------------------------------------------------

POSTS = [
    ("Hello, world", "Hallo, Welt", ["news"], "news"),
    ("Five tips for a weekend hike", "Fünf Tipps für eine Wochenendwanderung", ["outdoors", "guides"], "guides"),
    ("How we choose what to write about", "Wie wir unsere Themen auswählen", ["team"], "news"),
    ("A short guide to layering", "Eine kurze Anleitung zum Zwiebelprinzip", ["outdoors", "guides"], "guides"),
    ("Meet the people behind the site", "Die Menschen hinter der Seite", ["team"], "news"),
    ("Caring for your gear", "So pflegen Sie Ihre Ausrüstung", ["guides", "sustainability"], "guides"),
    ("Our favourite trails this autumn", "Unsere liebsten Wege in diesem Herbst", ["outdoors"], "guides"),
    ("Why we print less", "Warum wir weniger drucken", ["sustainability", "news"], "news"),
    ("Reader questions, answered", "Leserfragen, beantwortet", ["team", "guides"], "news"),
    ("What comes next", "Was als Nächstes kommt", ["news"], "news"),
]  # fmt: skip
TAGS = {
    "news": {"en": "News", "de": "Neuigkeiten"},
    "guides": {"en": "Guides", "de": "Ratgeber"},
    "outdoors": {"en": "Outdoors", "de": "Draußen"},
    "team": {"en": "Team", "de": "Team"},
    "sustainability": {"en": "Sustainability", "de": "Nachhaltigkeit"},
}
CATEGORIES = {
    "news": {"en": "News", "de": "Neuigkeiten"},
    "guides": {"en": "Guides", "de": "Ratgeber"},
}


def _names(names: dict[str, str]) -> tuple[str, dict[str, dict[str, str]]]:
    """The name in the tenant's default locale, and the names in its other locales."""
    default, *others = content_selectors.current_locales()
    name = names.get(default) or names["en"]
    return name, {locale: {"name": names[locale]} for locale in others if locale in names}


def _post_body(title: str, name: str, locale: str, number: int) -> str:
    if locale == "de":
        return (
            f"Willkommen zu Beitrag Nummer {number} von **{name}**.\n\n"
            f"## Worum es geht\n\n„{title}“ ist ein Demo-Beitrag: Er zeigt, wie Texte, "
            "Überschriften, Listen und Bilder auf dieser Seite aussehen.\n\n"
            "- Geschrieben in Markdown\n- Beim Speichern bereinigt\n- In zwei Sprachen\n\n"
            "> Bearbeiten Sie ihn im Admin-Bereich, oder löschen Sie ihn.\n"
        )
    return (
        f"Welcome to post number {number} from **{name}**.\n\n"
        f"## What this is about\n\n“{title}” is a demo post: it shows how text, headings, "
        "lists and pictures look on this site.\n\n"
        "- Written in Markdown\n- Sanitized when saved\n- In two languages\n\n"
        "> Edit it in the admin, or delete it.\n"
    )


# The demo's writers: staff with a display name to show (their login email never is).
AUTHORS = (
    ("ada", "Ada", "Lindqvist", "Ada L."),
    ("jonas", "Jonas", "Weber", "Jonas on the trail"),
    ("mira", "Mira", "Okafor", "Mira Okafor"),
)


def demo_authors(slug: str) -> list:
    """The demo's named authors of this tenant (editors who cannot log in until given a password)."""
    users = get_user_model()
    authors = []
    for handle, first, last, display_name in AUTHORS:
        email = f"{handle}@{slug}.test"
        user, created = users.objects.get_or_create(
            username=email,
            defaults={"email": email, "first_name": first, "last_name": last, "is_staff": True},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            editors = Group.objects.filter(name="Editor").first()
            if editors is not None:
                user.groups.add(editors)
        if people_selectors.profile_of(user.pk) is None:
            people.profile_update(user_id=user.pk, display_name=display_name)
        authors.append(user)
    return authors


def seed_posts(
    *, name: str, palette: list[tuple[str, str]], report: SeedReport, authors: list
) -> None:
    categories = {}
    for slug, names in CATEGORIES.items():
        category = content_selectors.category_by_slug(slug)
        if category is None:
            name, translations = _names(names)
            category = content.category_create(name=name, slug=slug, translations=translations)
        categories[slug] = category
    tags = {}
    for slug, names in TAGS.items():
        name, translations = _names(names)
        # An existing tag is returned as it is: running the demo again changes nothing.
        tags[slug] = content.tag_get_or_create(name=name, slug=slug, translations=translations)
    now = timezone.now()
    for number, (title_en, title_de, tag_slugs, category) in enumerate(POSTS, start=1):
        if _node_by_slug(POST_KIND, slugify(title_en)) is not None:
            report.kept.append(f"post {title_en}")
            continue
        image_id = _upload(
            f"post-{number}.png",
            number,
            palette[number % len(palette)],
            {"en": f"Illustration for “{title_en}”", "de": f"Illustration zu „{title_de}“"},
        )
        excerpt_en = f"A demo post from {name}: {title_en.lower()}."
        excerpt_de = f"Ein Demo-Beitrag von {name}: {title_de}."
        node = content.node_create(
            data=NodeInput(
                kind=POST_KIND,
                translations=[
                    TranslationInput(
                        locale="en",
                        title=title_en,
                        excerpt=excerpt_en,
                        body=_post_body(title_en, name, "en", number),
                    ),
                    TranslationInput(
                        locale="de",
                        title=title_de,
                        excerpt=excerpt_de,
                        body=_post_body(title_de, name, "de", number),
                    ),
                ],
                category_id=categories[category].pk,
                tag_ids=[tags[slug].pk for slug in tag_slugs],
                og_image_id=image_id,
                # Spread over the past weeks, oldest first (the blog's archive has months).
                publish_at=now - timedelta(days=4 * (len(POSTS) - number), hours=number),
            ),
            actor=authors[number % len(authors)],
        )
        _publish_as_scheduled(node)
        report.created.append(f"post {title_en}")


def _publish_as_scheduled(node: Node) -> None:
    """Publish at the node's (past) scheduled time, so posts do not all share one date."""
    others_due = content_selectors.scheduled().filter(publish_at__lte=node.publish_at)
    if not others_due.exclude(pk=node.pk).exists():
        content.nodes_publish_due(now=node.publish_at)
    if content_selectors.node_get(node.pk).status != NodeStatus.PUBLISHED:
        content.node_publish(node_id=node.pk)


# -- pages and menus --------------------------------------------------------------------


def _page(
    *,
    slug_en: str,
    report: SeedReport,
    build: Callable[[], PageInput],
) -> Node:
    existing = _node_by_slug(PAGE_KIND, slug_en)
    if existing is not None:
        report.kept.append(f"page {slug_en}")
        return existing
    layout = pages.page_create(data=build())
    content.node_publish(node_id=layout.node_id)
    report.created.append(f"page {slug_en}")
    return layout.node


def _t(locale: str, title: str, slug: str, excerpt: str = "", body: str = "") -> TranslationInput:
    return TranslationInput(locale=locale, title=title, slug=slug, excerpt=excerpt, body=body)


def seed_pages(*, name: str, palette: list[tuple[str, str]], report: SeedReport) -> dict[str, Node]:
    def image(seed: int, alt_en: str, alt_de: str) -> str:
        return str(
            _upload(
                f"page-{seed}.png", seed, palette[seed % len(palette)], {"en": alt_en, "de": alt_de}
            )
        )

    def home() -> PageInput:
        hero = image(21, f"The {name} landscape", f"Die Landschaft von {name}")
        return PageInput(
            translations=[_t("en", "Home", "home"), _t("de", "Startseite", "startseite")],
            template=PageTemplate.LANDING,
            is_home=True,
            blocks={
                "en": [
                    {"type": "hero", "title": f"Welcome to {name}", "subtitle": "Stories, guides and news: a demo site built from typed blocks.", "image_id": hero, "cta_label": "About us", "cta_url": "/about/"},
                    {"type": "rich_text", "body": f"**{name}** runs on a multi-tenant CMS. Everything on this page is a block an editor can change in the admin: this text, the banner above, the questions below."},
                    {"type": "product_grid", "title": "Featured products", "category": "featured", "count": 4},
                    {"type": "call_to_action", "title": "Read the blog", "text": "Ten demo posts in two languages, with tags, categories and pictures.", "button_label": "Go to the blog", "url": "/blog/"},
                    {"type": "faq", "title": "Questions", "items": [
                        {"question": "Can I edit this page?", "answer": "Yes: sign in to the **admin**, open *Page layouts* and change the blocks."},
                        {"question": "Is there a German version?", "answer": "Yes, use the language switcher at the top of the page."},
                        {"question": "Where do the menus come from?", "answer": "From *Menus* in the admin: a header and a footer menu."},
                    ]},
                ],
                "de": [
                    {"type": "hero", "title": f"Willkommen bei {name}", "subtitle": "Geschichten, Ratgeber und Neuigkeiten: eine Demo-Seite aus typisierten Blöcken.", "image_id": hero, "cta_label": "Über uns", "cta_url": "/ueber-uns/"},
                    {"type": "rich_text", "body": f"**{name}** läuft auf einem mandantenfähigen CMS. Alles auf dieser Seite ist ein Block, den die Redaktion im Admin-Bereich ändern kann."},
                    {"type": "product_grid", "title": "Ausgewählte Produkte", "category": "featured", "count": 4},
                    {"type": "call_to_action", "title": "Zum Blog", "text": "Zehn Demo-Beiträge in zwei Sprachen, mit Schlagworten, Kategorien und Bildern.", "button_label": "Zum Blog", "url": "/blog/?lang=de"},
                    {"type": "faq", "title": "Fragen", "items": [
                        {"question": "Kann ich diese Seite bearbeiten?", "answer": "Ja: Melden Sie sich im **Admin-Bereich** an und ändern Sie die Blöcke unter *Page layouts*."},
                        {"question": "Gibt es eine englische Fassung?", "answer": "Ja, über die Sprachauswahl oben auf der Seite."},
                    ]},
                ],
            },
        )  # fmt: skip

    def about() -> PageInput:
        picture = image(22, "Our workshop", "Unsere Werkstatt")
        return PageInput(
            translations=[
                _t("en", "About us", "about", "Who we are and what we do.", f"{name} started as a small idea and grew into this site.\n\nRead about [our team](/about/team/) and [our history](/about/history/)."),
                _t("de", "Über uns", "ueber-uns", "Wer wir sind und was wir tun.", f"{name} begann als kleine Idee und wurde zu dieser Seite.\n\nLesen Sie über [unser Team](/ueber-uns/team/) und [unsere Geschichte](/ueber-uns/geschichte/)."),
            ],
            template=PageTemplate.SIDEBAR,
            blocks={
                "en": [{"type": "image", "media_id": picture, "caption": "Where it all happens."}],
                "de": [{"type": "image", "media_id": picture, "caption": "Hier passiert alles."}],
            },
        )  # fmt: skip

    def team(parent: Node) -> Callable[[], PageInput]:
        def build() -> PageInput:
            people = [image(30 + n, f"Team member {n}", f"Teammitglied {n}") for n in range(1, 4)]
            return PageInput(
                parent_id=parent.pk,
                position=1,
                translations=[
                    _t("en", "Our team", "team", "The people behind the site."),
                    _t("de", "Unser Team", "team", "Die Menschen hinter der Seite."),
                ],
                template=PageTemplate.SIDEBAR,
                blocks={
                    "en": [{"type": "rich_text", "body": "We are editors, photographers and people who like the outdoors."}, {"type": "gallery", "title": "Faces", "images": [{"media_id": person, "caption": f"Team member {n}"} for n, person in enumerate(people, start=1)]}],
                    "de": [{"type": "rich_text", "body": "Wir sind Redakteure, Fotografinnen und Menschen, die gern draußen sind."}, {"type": "gallery", "title": "Gesichter", "images": [{"media_id": person, "caption": f"Teammitglied {n}"} for n, person in enumerate(people, start=1)]}],
                },
            )  # fmt: skip

        return build

    def history(parent: Node) -> Callable[[], PageInput]:
        def build() -> PageInput:
            table_en = "<table><thead><tr><th>Year</th><th>What happened</th></tr></thead><tbody><tr><td>2019</td><td>The idea</td></tr><tr><td>2021</td><td>The first issue</td></tr><tr><td>2024</td><td>This site</td></tr></tbody></table>"
            table_de = "<table><thead><tr><th>Jahr</th><th>Was geschah</th></tr></thead><tbody><tr><td>2019</td><td>Die Idee</td></tr><tr><td>2021</td><td>Die erste Ausgabe</td></tr><tr><td>2024</td><td>Diese Seite</td></tr></tbody></table>"
            return PageInput(
                parent_id=parent.pk,
                position=2,
                translations=[
                    _t("en", "Our history", "history", "How we got here."),
                    _t("de", "Unsere Geschichte", "geschichte", "Wie wir hierher kamen."),
                ],
                template=PageTemplate.SIDEBAR,
                blocks={
                    "en": [{"type": "rich_text", "body": "A few milestones, in a table embedded as (sanitized) HTML:"}, {"type": "embed_html", "title": "Milestones", "html": table_en}],
                    "de": [{"type": "rich_text", "body": "Einige Meilensteine, als (bereinigtes) HTML eingebettet:"}, {"type": "embed_html", "title": "Meilensteine", "html": table_de}],
                },
            )  # fmt: skip

        return build

    found = {"home": _page(slug_en="home", report=report, build=home)}
    found["about"] = _page(slug_en="about", report=report, build=about)
    found["team"] = _page(slug_en="team", report=report, build=team(found["about"]))
    found["history"] = _page(slug_en="history", report=report, build=history(found["about"]))
    return found


def seed_menus(*, found: dict[str, Node], report: SeedReport) -> None:
    existing = {menu.slug for menu in pages_selectors.menus()}
    items = {
        "header": [
            MenuItemInput(label={"en": "Home", "de": "Startseite"}, url="/"),
            MenuItemInput(
                label={"en": "About", "de": "Über uns"},
                page_id=found["about"].pk,
                children=[
                    MenuItemInput(page_id=found["team"].pk),
                    MenuItemInput(page_id=found["history"].pk),
                ],
            ),
            MenuItemInput(label={"en": "Blog", "de": "Blog"}, url="/blog/"),
            MenuItemInput(label={"en": "Shop", "de": "Shop"}, url="/shop/"),
            MenuItemInput(label={"en": "Forum", "de": "Forum"}, url="/forum/"),
        ],
        "footer": [
            MenuItemInput(page_id=found["about"].pk),
            MenuItemInput(label={"en": "Blog", "de": "Blog"}, url="/blog/"),
            MenuItemInput(label={"en": "RSS feed", "de": "RSS-Feed"}, url="/blog/feed/"),
            MenuItemInput(label={"en": "Sitemap", "de": "Sitemap"}, url="/sitemap.xml"),
        ],
    }
    names = {"header": "Header", "footer": "Footer"}
    for slug, entries in items.items():
        if slug in existing:
            report.kept.append(f"menu {slug}")
            continue
        menu = pages.menu_create(slug=slug, name=names[slug])
        pages.menu_set_items(menu_id=menu.pk, items=entries)
        report.created.append(f"menu {slug}")


def seed_site(*, slug: str, name: str) -> SeedReport:
    """Seed the active tenant schema (whose locales must include en and de)."""
    palette = PALETTES.get(slug, PALETTES["acme"])
    report = SeedReport()
    found = seed_pages(name=name, palette=palette, report=report)
    seed_menus(found=found, report=report)
    seed_posts(name=name, palette=palette, report=report, authors=demo_authors(slug))
    seed_shop(slug=slug, report=report)
    # Last, and outside any transaction: the orders are paid for (by bank transfer).
    seed_customers_and_orders(slug=slug, report=report)
    # The forum's members are the shop's customers.
    seed_forum(slug=slug, report=report)
    return report
