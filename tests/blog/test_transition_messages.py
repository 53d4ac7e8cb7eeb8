"""A refused status change says what the content is and what the action needs."""

import pytest

from apps.blog import services as blog
from apps.core.errors import InvalidTransition
from tests.index.support import acme_schema, post  # noqa: F401

pytestmark = pytest.mark.usefixtures("acme_schema")


@pytest.mark.parametrize(
    ("publish", "action", "detail"),
    [
        (False, "unpublish", "This content is a draft already: only published content can be unpublished."),
        (False, "restore", "This content is a draft already: only archived content can be restored."),
        (False, "archive", "This content is a draft: only published content can be archived."),
        (True, "publish", "This content is published already: only draft content can be published."),
    ],
)  # fmt: skip
def test_a_refused_transition_says_why(publish, action, detail):
    node = post("A post", publish=publish)
    with pytest.raises(InvalidTransition) as refused:
        blog.post_transition(post_id=node.pk, action=action)
    assert refused.value.detail == detail
