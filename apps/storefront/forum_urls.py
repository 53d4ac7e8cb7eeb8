"""The forum's public URLs, mounted at /forum/ (config/urls_tenant.py)."""

from django.urls import path, re_path

from . import forum_views as views

app_name = "forum"
urlpatterns = [
    path("", views.forum_index, name="index"),
    path("search/", views.search, name="search"),
    path("my/", views.my_topics, name="my"),
    path("c/<slug:slug>/", views.category_page, name="category"),
    path("c/<slug:slug>/new/", views.topic_new, name="topic_new"),
    path("c/<slug:slug>/feed/", views.CategoryTopicsFeed(), name="feed_rss"),
    path("c/<slug:slug>/atom/", views.CategoryTopicsAtomFeed(), name="feed_atom"),
    path("t/<int:topic_id>/", views.topic_page, name="topic_bare"),
    path("t/<int:topic_id>/<slug:slug>/", views.topic_page, name="topic"),
    # A topic's actions: not under /t/<id>/, where a topic titled "Edit" has its page.
    path("topic/<int:topic_id>/reply/", views.reply_post, name="reply"),
    path("topic/<int:topic_id>/edit/", views.topic_edit, name="topic_edit"),
    path("topic/<int:topic_id>/solve/", views.topic_solve, name="topic_solve"),
    path("topic/<int:topic_id>/subscribe/", views.topic_subscribe, name="topic_subscribe"),
    path("r/<int:reply_id>/", views.reply_permalink, name="reply_permalink"),
    path("r/<int:reply_id>/edit/", views.reply_edit, name="reply_edit"),
    path("r/<int:reply_id>/report/", views.reply_report, name="reply_report"),
    re_path(r"^u/(?P<handle>[A-Za-z0-9][A-Za-z0-9_-]{0,29})/$", views.member_page, name="member"),
    path("tags/<slug:slug>/", views.tag_page, name="tag"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
