"""The storefront's forum forms. They only carry what was typed: the forum's services check
it (required fields, lengths, the body's size, tags, who may do what), and their field
errors are put back on the form (``apps.storefront.account_forms.add_errors``), so that a
rule is spelled once whether a post comes from the storefront, the admin or the API."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy

from apps.forum import selectors as forum
from apps.forum.models import BODY_MAX, REASON_MAX, TITLE_MAX, FlagReason
from apps.forum.services import MAX_TAGS

BODY_HELP = gettext_lazy(
    "Markdown: **bold**, *italic*, `code`, [links](https://example.com), lists and quotes. "
    "Mention a member with @name."
)


def _body_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=BODY_HELP,
        # No max_length here: the service answers a body too large with its own message (413).
        widget=forms.Textarea(attrs={"rows": 8, "data-max-length": BODY_MAX}),
    )


def tag_choices(locale: str) -> list[tuple[str, str]]:
    """The tenant's tags a topic may carry, named in ``locale`` (one query)."""
    return [(tag.slug, tag.name_in(locale)) for tag in forum.tags()]


class ReplyForm(forms.Form):
    body = _body_field(gettext_lazy("Your reply"))
    quoted_reply_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class TopicForm(forms.Form):
    """A new topic, or a topic's edit: title, body and tags chosen among the tenant's."""

    title = forms.CharField(
        label=gettext_lazy("Title"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": TITLE_MAX, "autocomplete": "off"}),
    )
    body = _body_field(gettext_lazy("Your post"))
    tags = forms.MultipleChoiceField(
        label=gettext_lazy("Tags"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, tags: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = tags
        self.fields["tags"].help_text = gettext("Up to %(count)d.") % {"count": MAX_TAGS}
        if not tags:
            del self.fields["tags"]


class ReplyEditForm(forms.Form):
    body = _body_field(gettext_lazy("Your reply"))


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What is wrong with this reply?"),
        choices=FlagReason.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Anything the moderators should know (optional)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
