"""Posts and pages have their own admin entries that write through the blog's and the pages'
services (their rules hold in the admin as in the API); content's own entry edits the rest."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.content import services
from apps.content.models import Category, Node, Tag

from .conftest import (
    CONTENT,
    NODES,
    PAGES,
    change_form_data,
    errors_in,
    in_acme,
    make_node,
    node_url,
    page,
    translation_form_data,
)
from .conftest import (
    node_form_data as add_data,
)


def test_editors_see_posts_and_pages_in_the_admin_index(editor_client):
    content = page(editor_client.get("/admin/"))
    assert f'href="{NODES}"' in content and f'href="{PAGES}"' in content
    assert ">Posts<" in content and ">Pages<" in content


def test_the_content_entry_lists_and_edits_no_post_and_no_page(editor_client):
    post, about = make_node(title="A post"), make_node(title="About", kind="page")
    recipe = make_node(title="Soup", kind="recipe")
    listed = page(editor_client.get(CONTENT))
    assert ">Soup<" in listed and ">A post<" not in listed and ">About<" not in listed
    for node in (post, about):
        assert editor_client.get(f"{CONTENT}{node.pk}/change/").status_code == 302  # not found
    assert editor_client.get(f"{CONTENT}{recipe.pk}/change/").status_code == 200


def test_the_kind_is_chosen_never_typed(editor_client):
    make_node(title="Soup", kind="recipe")
    form = page(editor_client.get(f"{CONTENT}add/"))
    assert '<select name="kind"' in form and '<option value="recipe">' in form
    assert '<option value="post">' not in form and '<option value="page">' not in form
    response = editor_client.post(f"{CONTENT}add/", add_data(kind="post"))
    assert response.status_code == 200 and errors_in(page(response))
    assert in_acme(lambda: Node.objects.filter(kind="post").count()) == 0


def test_the_blog_refuses_its_reserved_slugs_in_the_admin(editor_client):
    response = editor_client.post(
        f"{NODES}add/", add_data(**translation_form_data(0, title="Search"))
    )
    assert "reserved by the blog" in " ".join(errors_in(page(response)))
    assert in_acme(lambda: Node.objects.count()) == 0

    post = make_node(title="Trips")
    response = editor_client.post(
        node_url(post), change_form_data(post, **{"translations-0-slug": "feed"})
    )
    assert "reserved by the blog" in " ".join(errors_in(page(response)))
    assert in_acme(lambda: post.translations.get().slug) == "trips"


def test_a_page_refuses_a_root_slug_the_site_uses_and_a_parent_that_is_no_page(editor_client):
    about = make_node(title="About", kind="page")
    post = make_node(title="A post")
    data = change_form_data(about, **{"translations-0-slug": "admin"})
    response = editor_client.post(f"{PAGES}{about.pk}/change/", data)
    assert "used by the site itself" in " ".join(errors_in(page(response)))
    data = change_form_data(about, parent=str(post.pk))
    response = editor_client.post(f"{PAGES}{about.pk}/change/", data)
    assert response.status_code == 200 and errors_in(page(response))
    with schema_context("acme"):
        about.refresh_from_db()
        assert (about.parent_id, about.translations.get().slug) == (None, "about")


def test_a_category_moves_back_to_the_top_level(editor_client):
    with schema_context("acme"):
        travel = services.category_create(name="Travel")
        local = services.category_create(name="Local", parent_id=travel.pk)
    response = editor_client.post(
        f"/admin/content/category/{local.pk}/change/",
        {"name": "Local", "slug": "local", "parent": "", "description": ""},
    )
    assert response.status_code == 302, errors_in(page(response))
    assert in_acme(lambda: Category.objects.get(pk=local.pk).parent_id) is None


def test_a_tag_is_renamed_through_tag_update(editor_client):
    with schema_context("acme"):
        tag = services.tag_get_or_create(name="Sumer")
        services.tag_get_or_create(name="Taken")
    response = editor_client.post(
        f"/admin/content/tag/{tag.pk}/change/", {"name": "Summer", "slug": "summer"}
    )
    assert response.status_code == 302, errors_in(page(response))
    assert in_acme(lambda: Tag.objects.get(pk=tag.pk).slug) == "summer"
    response = editor_client.post(
        f"/admin/content/tag/{tag.pk}/change/", {"name": "Taken", "slug": "taken"}
    )
    assert response.status_code == 200 and errors_in(page(response))  # a taken slug: refused
    assert in_acme(lambda: Tag.objects.get(pk=tag.pk).slug) == "summer"
