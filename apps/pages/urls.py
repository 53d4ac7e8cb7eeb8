from django.urls import re_path

from . import views

# One to eight slug segments: /about/ , /about/team/ . Without the final slash too, so that
# the view redirects only to pages that exist (APPEND_SLASH would redirect any path).
PAGE_PATH = r"^(?P<path>[-a-zA-Z0-9_]+(?:/[-a-zA-Z0-9_]+){0,7})(?P<slash>/?)$"

app_name = "pages"
urlpatterns = [re_path(PAGE_PATH, views.page_detail, name="page")]
