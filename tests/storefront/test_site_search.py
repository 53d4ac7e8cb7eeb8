"""The site search (/search/): products, posts and pages grouped on one page, each with its
count, highlighted hits, links to all of them, in the reader's locale and currency, never
another tenant's, in a fixed number of queries; bad input never an error."""

import re

import pytest
from django_tenants.utils import schema_context

from apps.commerce import services as commerce
from tests.index.shop import product, project_products, shop
from tests.index.support import post, project
from tests.pages.support import make_page, png_upload

pytestmark = pytest.mark.usefixtures("acme_site")
PRICES = {"EUR": "25.00", "USD": "30.00"}


@pytest.fixture
def findable(acme_site, media_root):
    """In acme: six lanterns for sale (one with a picture) and a draft one, seven posts and a
    page about lanterns (under "About us"), and things that do not match."""
    with schema_context("acme"):
        shop(("EUR", "USD"))
        lanterns = [product(f"Trail lantern {n}", prices=PRICES, variants=2) for n in range(6)]
        commerce.product_image_add(
            product_id=lanterns[-1].pk, file=png_upload("lantern.png"), alt_text={"en": "A lamp"}
        )
        product("Lantern prototype", prices=PRICES, activate=False)
        product("Kettle", prices=PRICES)
        for n in range(7):
            post(
                f"Lantern story {n}",
                f"How we carried a lantern up hill {n}.",
                more={"de": {"title": f"Laterne {n}", "slug": f"laterne-{n}",
                             "body": "Eine Laterne am Berg."}},
            )  # fmt: skip
        post("Cooking", "Soup and bread")
    about = make_page(en=("About us", "about"), de=("Über uns", "ueber-uns"))
    make_page(
        en=("Lantern workshop", "lantern-workshop"), de=("Werkstatt für Laternen", "laternen"),
        parent=about,
    )  # fmt: skip
    make_page(en=("Contact", "contact"))
    project()
    project_products()
    return lanterns


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def group(html: str, name: str) -> str:
    found = re.search(
        rf'<section class="search-group search-group--{name}".*?</section>', html, re.S
    )
    return found.group(0) if found else ""


def test_an_empty_query_shows_the_form_only(acme_client, findable):
    response = acme_client.get("/search/")
    html = html_of(response)
    assert 'role="search"' in html and 'name="q"' in html
    assert "search-group" not in html and 'role="status"' not in html
    assert (
        response["X-Robots-Tag"] == "noindex" and '<meta name="robots" content="noindex">' in html
    )


def test_results_are_grouped_with_counts_and_links_to_all(acme_client, findable):
    response = acme_client.get("/search/", {"q": "lantern"})
    html = html_of(response)
    assert response["X-Robots-Tag"] == "noindex"
    assert "14 results for “lantern”" in html  # 6 products, 7 posts, 1 page
    products, posts, pages = group(html, "products"), group(html, "posts"), group(html, "pages")
    assert html.index(products) < html.index(posts) < html.index(pages)
    # Products: the first four as cards, in the reader's currency, and the shop's search.
    assert "(6)" in products and products.count('class="product-card"') == 4
    assert "€25.00" in products and "prototype" not in products
    assert 'href="/shop/?q=lantern">All 6 products</a>' in products
    # Posts: the first five, highlighted, and this page narrowed to posts.
    assert "(7)" in posts and posts.count('class="search-result"') == 5
    assert "<mark>Lantern</mark> story" in posts and "<mark>lantern</mark>" in posts
    assert 'href="/search/?q=lantern&amp;kind=posts">All 7 posts</a>' in posts
    # Pages: linked at their path in the tree.
    assert "(1)" in pages and 'href="/about/lantern-workshop/"' in pages
    assert "<mark>Lantern</mark> workshop" in pages and "All 1" not in pages
    assert "Cooking" not in html and "Kettle" not in html and "Contact" not in html


def test_a_group_without_hits_is_left_out(acme_client, findable):
    html = html_of(acme_client.get("/search/", {"q": "kettle"}))
    assert "1 result for “kettle”" in html
    assert group(html, "products") and not group(html, "posts") and not group(html, "pages")
    assert "All 1" not in html  # everything is shown already
    nothing = html_of(acme_client.get("/search/", {"q": "zeppelin"}))
    assert "No results for “zeppelin”." in nothing and "search-group" not in nothing


def test_one_kind_is_paginated_on_its_own(acme_client, findable):
    html = html_of(acme_client.get("/search/", {"q": "lantern", "kind": "posts"}))
    assert "7 results for “lantern”" in html and "Search: Posts" in html
    assert group(html, "posts").count('class="search-result"') == 7
    assert not group(html, "products") and not group(html, "pages")
    assert '<input type="hidden" name="kind" value="posts">' in html
    assert 'href="/search/?q=lantern">Search everything</a>' in html
    pages = html_of(acme_client.get("/search/", {"q": "lantern", "kind": "pages"}))
    assert "1 result for “lantern”" in pages and "/about/lantern-workshop/" in pages
    assert (
        acme_client.get("/search/", {"q": "lantern", "kind": "posts", "page": "9"}).status_code
        == 404
    )


def test_the_readers_locale_and_currency(acme_client, findable):
    html = html_of(acme_client.get("/search/", {"q": "Laterne", "lang": "de", "currency": "USD"}))
    assert '<html lang="de">' in html and "Suche" in html
    assert '<input type="hidden" name="lang" value="de">' in html
    posts = group(html, "posts")
    assert posts.count("<mark>Laterne</mark>") == 10  # five titles, five snippets
    assert re.search(r'href="/blog/laterne-\d/\?lang=de"', posts)
    pages = group(html, "pages")
    assert 'href="/ueber-uns/laternen/?lang=de"' in pages
    english = html_of(
        acme_client.get("/search/", {"q": "lantern", "lang": "en", "currency": "USD"})
    )
    assert "$30.00" in group(english, "products")


def test_the_header_links_the_search(acme_client, findable):
    assert 'class="site-search-link" href="/search/"' in html_of(acme_client.get("/"))
    german = html_of(acme_client.get("/blog/?lang=de"))
    assert 'class="site-search-link" href="/search/?lang=de">Suche</a>' in german
    on_search = html_of(acme_client.get("/search/", {"q": "lantern", "lang": "en"}))
    assert 'class="site-search-link" href="/search/" aria-current="page">' in on_search


def test_globex_never_finds_acmes_products_posts_or_pages(globex_site, globex_client, findable):
    html = html_of(globex_client.get("/search/", {"q": "lantern"}))
    assert "No results for “lantern”." in html and "Trail lantern" not in html
    assert "Lantern story" not in html and "lantern-workshop" not in html


BAD_INPUT = [
    {"q": "\x00"},
    {"q": "lantern\x00"},
    {"q": "-" * 60},
    {"q": "x" * 20_000},
    {"q": " ".join(["lantern"] * 500)},
    {"q": '"unclosed phrase'},
    {"q": "(((lantern"},
    {"q": "!!!&&&|||:*"},
    {"q": '"><script>alert(1)</script>'},
    {"q": "lantern", "kind": "everything"},
    {"q": "lantern", "currency": "XXX"},
    {"q": "lantern", "lang": "zz"},
    {"q": ["lantern", "kettle"]},
]


def test_bad_input_never_fails(acme_client, findable):
    for params in BAD_INPUT:
        response = acme_client.get("/search/", params)
        assert response.status_code == 200, params
        assert "<script>alert(1)</script>" not in response.content.decode()
    # pages that are not there are 404s
    for page in ("abc", "0", "9", "-1", "9" * 30):
        params = {"q": "lantern", "kind": "posts", "page": page}
        assert acme_client.get("/search/", params).status_code == 404, page


def test_a_search_page_costs_a_fixed_number_of_queries(
    acme_client, findable, django_assert_num_queries
):
    acme_client.get("/search/", {"q": "lantern"})  # the tenant, the site and page paths cached
    # products: a count, a page, their main images; the store's currencies; posts and pages:
    # a count and a page each.
    with django_assert_num_queries(8):
        html = html_of(acme_client.get("/search/", {"q": "lantern"}))
    assert html.count('class="product-card"') == 4 and html.count('class="search-result"') == 6
