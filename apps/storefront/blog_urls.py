"""The blog's public URLs, mounted at /blog/ (config/urls_tenant.py)."""

from django.urls import path

from . import blog_views as views

app_name = "blog"
urlpatterns = [
    path("", views.post_index, name="index"),
    path("search/", views.search, name="search"),
    path("feed/", views.LatestPostsFeed(), name="feed_rss"),
    path("feed/atom/", views.LatestPostsAtomFeed(), name="feed_atom"),
    path("archive/", views.archive, name="archive"),
    path("archive/<int:year>/<int:month>/", views.month_posts, name="month"),
    path("tag/<slug:slug>/", views.tag_posts, name="tag"),
    path("category/<slug:slug>/", views.category_posts, name="category"),
    path("author/<int:author_id>/", views.author_posts, name="author"),
    # Last: one segment that none of the above took (see apps.blog.services.RESERVED_SLUGS).
    path("<slug:slug>/", views.post_detail, name="post"),
]
