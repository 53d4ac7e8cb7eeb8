"""Pages on the storefront: paths, blocks, templates, drafts and previews, locales, menus, isolation."""

import pytest
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.pages import services
from apps.pages.services import MenuItemInput
from tests.conftest import tenant_client
from tests.pages.support import (
    make_menu,
    make_page,
    make_post,
    reader_client,
    staff_client,
    upload,
)

pytestmark = pytest.mark.usefixtures("acme_site")

BLOCKS = {
    "en": [
        {"type": "hero", "title": "Meet us", "subtitle": "Nice people", "cta_label": "Write", "cta_url": "mailto:hi@acme.test"},
        {"type": "rich_text", "body": "We **like** trails. <script>alert('x')</script>"},
        {"type": "call_to_action", "title": "Join", "button_label": "Sign up", "url": "/join/"},
        {"type": "faq", "title": "Questions", "items": [{"question": "Dogs?", "answer": "*Yes*, on a leash."}]},
        {"type": "embed_html", "html": "<table><tr><td>2024</td></tr></table><img src=x onerror=alert(1)>"},
        {"type": "product_grid", "title": "Gear", "category_slug": "tents", "count": 3},
    ],
    "de": [{"type": "rich_text", "body": "Wir **mögen** Wege."}],
}  # fmt: skip


@pytest.fixture
def tree(acme_site):
    about = make_page(en=("About us", "about"), de=("Über uns", "ueber-uns"), template="sidebar")
    team = make_page(
        en=("Our team", "team"), de=("Unser Team", "team"), parent=about, blocks=BLOCKS,
        template="sidebar",
    )  # fmt: skip
    return {"about": about, "team": team}


def html(response) -> str:
    return response.content.decode()


def test_a_page_is_served_at_its_path_with_its_blocks(acme_client, tree):
    response = acme_client.get("/about/team/")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Our team</h1>" in page
    assert '<h2 class="hero__title">Meet us</h2>' in page
    assert "<strong>like</strong>" in page and "<script>alert" not in page
    assert 'href="mailto:hi@acme.test"' in page and 'href="/join/"' in page
    assert "<summary>Dogs?</summary>" in page and "<em>Yes</em>" in page
    assert "<td>2024</td>" in page and "onerror" not in page
    # A grid of a category the shop does not have: a friendly line, not an error.
    assert "<h2>Gear</h2>" in page and "No products to show here yet." in page
    # Breadcrumbs and the sidebar of the section.
    assert '<a href="/about/">About us</a>' in page
    assert 'aria-current="page">Our team</a>' in page
    assert '<link rel="canonical" href="http://acme.localhost/about/team/">' in page
    assert 'hreflang="de" href="http://acme.localhost/ueber-uns/team/?lang=de"' in page


def test_without_a_trailing_slash_it_redirects_to_pages_only(acme_client, tree):
    response = acme_client.get("/about/team?lang=en")
    assert response.status_code == 301 and response["Location"] == "/about/team/?lang=en"
    assert acme_client.get("/about/nobody").status_code == 404  # not a redirect to a 404


def test_the_german_path_serves_the_german_page(acme_client, tree):
    response = acme_client.get("/ueber-uns/team/")
    page = html(response)
    assert response.status_code == 200 and response["Content-Language"] == "de"
    assert '<html lang="de">' in page and "<h1>Unser Team</h1>" in page
    assert "<strong>mögen</strong>" in page and "Meet us" not in page
    assert '<a href="/ueber-uns/">Über uns</a>' in page


def test_the_url_decides_where_both_locales_share_a_path(acme_client, tree):
    make_page(en=("Contact", "contact"), de=("Kontakt", "contact"))
    german_reader = acme_client.get("/contact/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9")
    assert german_reader.status_code == 302 and german_reader["Location"] == "/contact/?lang=de"
    assert "<h1>Kontakt</h1>" in html(acme_client.get("/contact/?lang=de"))
    # French is not enabled: the next enabled locale the reader accepts is the default.
    assert "<h1>Contact</h1>" in html(
        tenant_client("acme").get("/contact/", HTTP_ACCEPT_LANGUAGE="fr, en;q=0.5")
    )
    assert "<h1>Contact</h1>" in html(tenant_client("acme").get("/contact/"))


def test_choosing_a_locale_redirects_to_the_page_in_it_and_sticks(acme_client, tree):
    make_menu("header", [MenuItemInput(page_id=tree["team"].pk)])
    response = acme_client.get("/about/team/?lang=de")
    assert response.status_code == 302 and response["Location"] == "/ueber-uns/team/?lang=de"
    assert response.cookies["locale"].value == "de"
    response = acme_client.get("/ueber-uns/team/?lang=de")
    assert response.status_code == 200 and "<h1>Unser Team</h1>" in html(response)
    # The client sends the cookie back: the bare home page sends it to the German one.
    assert acme_client.cookies["locale"].value == "de"
    bare = acme_client.get("/")
    assert bare.status_code == 302 and bare["Location"] == "/?lang=de"
    home = acme_client.get("/?lang=de")
    assert home.status_code == 200 and home["Content-Language"] == "de"
    assert '<html lang="de">' in html(home)
    assert '<a href="/ueber-uns/team/">Unser Team</a>' in html(home)
    assert 'href="/?lang=de" hreflang="de" lang="de" aria-current="true"' in html(home)
    # A reader without the cookie gets the default locale on the same page.
    english = tenant_client("acme").get("/")
    assert english["Content-Language"] == "en" and "Unser Team" not in html(english)
    assert '<a href="/about/team/">Our team</a>' in html(english)
    switcher = html(acme_client.get("/about/team/?lang=en"))
    assert 'href="/ueber-uns/team/?lang=de" hreflang="de" lang="de"' in switcher
    assert 'href="/about/team/?lang=en" hreflang="en" lang="en" aria-current="true"' in switcher


def test_templates(acme_client, acme_site):
    make_page(
        en=("Landing", "landing"),
        template="landing",
        blocks={"en": [{"type": "hero", "title": "Big"}]},
    )
    make_page(
        en=("Plain", "plain"),
        template="landing",
        blocks={"en": [{"type": "rich_text", "body": "x"}]},
    )
    landing = html(acme_client.get("/landing/"))
    assert '<h1 class="hero__title">Big</h1>' in landing and "<h1>Landing</h1>" not in landing
    assert '<h1 class="visually-hidden">Plain</h1>' in html(acme_client.get("/plain/"))


def test_images_in_blocks(acme_client, acme_site, media_root):
    picture = upload(alt={"en": "A teal box", "de": "Eine blaugrüne Kiste"})
    make_page(
        en=("Pictures", "pictures"), de=("Bilder", "bilder"),
        blocks={
            "en": [{"type": "image", "media_id": str(picture), "caption": "Teal"}],
            "de": [{"type": "gallery", "images": [{"media_id": str(picture), "caption": "Blaugrün"}]}],
        },
    )  # fmt: skip
    english = html(acme_client.get("/pictures/"))
    assert (
        'alt="A teal box" width="8" height="6"' in english
        and "<figcaption>Teal</figcaption>" in english
    )
    german = html(acme_client.get("/bilder/"))
    assert 'alt="Eine blaugrüne Kiste"' in german and "<figcaption>Blaugrün</figcaption>" in german


# -- drafts and previews ------------------------------------------------------------------


def test_drafts_are_404_to_the_public_and_shown_to_staff_with_preview(acme_client, acme_site):
    draft = make_page(en=("Secret plans", "plans"), publish=False)
    assert acme_client.get("/plans/").status_code == 404
    assert acme_client.get("/plans/?preview=1").status_code == 404
    assert reader_client().get("/plans/?preview=1").status_code == 404
    staff = staff_client()
    assert staff.get("/plans/").status_code == 404  # staff see drafts only when they ask
    response = staff.get("/plans/?preview=1")
    assert response.status_code == 200 and "Secret plans" in html(response)
    assert "Preview" in html(response) and 'content="noindex, nofollow"' in html(response)
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert staff.get(f"/preview/{draft.pk}/").status_code == 200


def test_the_preview_link_shows_any_content_to_staff_only(acme_client, acme_site):
    post = make_post("Draft post", publish=False)
    page = make_page(en=("Draft page", "draft-page"), publish=False)
    staff = staff_client()
    for node, title in ((post, "Draft post"), (page, "Draft page")):
        url = f"/preview/{node.pk}/"
        assert acme_client.get(url).status_code == 404
        assert reader_client().get(url).status_code == 404
        response = staff.get(url)
        assert response.status_code == 200 and title in html(response)
        assert response["Cache-Control"] == "private, no-store"
    assert staff.get("/preview/00000000-0000-0000-0000-000000000001/").status_code == 404
    assert staff.get("/preview/not-a-uuid/").status_code == 404


def test_archived_pages_are_gone(acme_client, tree):
    with schema_context("acme"):
        content.node_archive(node_id=tree["team"].pk)
    assert acme_client.get("/about/team/").status_code == 404
    assert acme_client.get("/about/").status_code == 200


def test_a_page_under_a_draft_is_not_public(acme_client, tree):
    with schema_context("acme"):
        content.node_unpublish(node_id=tree["about"].pk)
    assert acme_client.get("/about/team/").status_code == 404
    assert staff_client().get("/about/team/?preview=1").status_code == 200


# -- menus ---------------------------------------------------------------------------------


def test_header_and_footer_menus_are_on_every_page(acme_client, tree):
    make_menu(
        "header",
        [
            MenuItemInput(label={"en": "Home", "de": "Start"}, url="/"),
            MenuItemInput(page_id=tree["about"].pk, children=[MenuItemInput(page_id=tree["team"].pk)]),
        ],
    )  # fmt: skip
    make_menu("footer", [MenuItemInput(label={"en": "Blog"}, url="/blog/")])
    page = html(acme_client.get("/about/team/"))
    assert '<nav class="menu menu--header" aria-label="Main">' in page
    assert '<a href="/about/team/" aria-current="page">Our team</a>' in page
    assert '<nav class="menu menu--footer" aria-label="Footer">' in page and 'href="/blog/"' in page
    german = html(acme_client.get("/ueber-uns/"))
    assert (
        '<a href="/?lang=de">Start</a>' in german
        and '<a href="/ueber-uns/team/">Unser Team</a>' in german
    )
    missing = acme_client.get("/nothing-here/")
    assert missing.status_code == 404 and 'aria-label="Main"' in html(missing)


# -- isolation and cost ------------------------------------------------------------------


def test_a_page_of_one_tenant_is_not_reachable_on_another(
    acme_client, globex_client, tree, globex_site
):
    make_menu("header", [MenuItemInput(page_id=tree["about"].pk)])
    assert acme_client.get("/about/team/").status_code == 200
    assert globex_client.get("/about/team/").status_code == 404
    assert globex_client.get(f"/preview/{tree['team'].pk}/").status_code == 404
    assert staff_client("globex").get(f"/preview/{tree['team'].pk}/").status_code == 404
    assert "About us" not in html(globex_client.get("/"))


def test_the_page_view_costs_a_bounded_number_of_queries(
    acme_client, tree, media_root, django_assert_max_num_queries
):
    picture = upload()
    many = [{"type": "image", "media_id": str(picture)} for _ in range(30)]
    many += [{"type": "gallery", "images": [{"media_id": str(picture)}] * 10}]
    with schema_context("acme"):
        services.layout_save(node_id=tree["team"].pk, blocks={"en": many + BLOCKS["en"]})
    for number in range(10):
        make_page(en=(f"Child {number}", f"child-{number}"), parent=tree["about"])
    make_menu("header", [MenuItemInput(page_id=tree["team"].pk)])
    # The tenant, the site snapshot and the modules' modes are cached from here on.
    acme_client.get("/about/")
    # The page and its ancestors with translations and tags (3), the images (1),
    # the sidebar's pages (3), SET search_path (1).
    with django_assert_max_num_queries(8):
        response = acme_client.get("/about/team/")
    assert response.status_code == 200 and html(response).count("<img") >= 40
