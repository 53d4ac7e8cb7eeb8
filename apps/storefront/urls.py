from django.urls import path, re_path

from . import search_views, views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search_views.search, name="search"),
    path("preview/<uuid:node_id>/", views.preview, name="preview"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("robots.txt", views.robots, name="robots"),
    # Uploaded files where Django serves them (see views.media).
    re_path(r"^media/(?P<schema>[a-z0-9_]+)/(?P<path>.+)$", views.media, name="media"),
]
