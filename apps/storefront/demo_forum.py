"""The demo tenants' forums: categories in English and German, topics and replies by the demo
customers, and a moderator with work waiting in the moderation queue.

Each tenant gets four categories: staff-only announcements (one pinned topic, one closed),
moderated introductions (a topic and replies still pending, for the moderator to approve),
and a category with a subcategory where members ask and answer (one question solved).
Topics carry the tenant's tags and are written in their author's language; replies
mention other members by their handles, and the ``forum_mentions`` flag is on for everyone,
so mentions link and notify on the demo's forum.

Everything is written through the forum's services, as members and the moderator write
it, so events, counters and notifications behave as they do on a live forum. Running it
again writes nothing: categories are found by their slug, the moderator by their login,
topics by their category and title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.content import selectors as content_selectors
from apps.core.flags import flag_on_for_everyone
from apps.forum import selectors as forum
from apps.forum import services
from apps.forum.flags import MENTIONS
from apps.people import services as people

from .demo_orders import CUSTOMERS, customer_logins

if TYPE_CHECKING:
    from .demo import SeedReport

MODERATOR_GROUP = "Moderator"
# The demo moderator's public name per tenant (their login is moderator@<tenant>.test).
MODERATORS = {"acme": "Mara from Acme", "globex": "Felix from Globex"}


def moderator_login(slug: str) -> tuple[str, str]:
    """The demo moderator's login of tenant ``slug`` (email, password)."""
    return f"moderator@{slug}.test", f"{slug}-moderator-pass"


def moderator_logins(slug: str) -> list[tuple[str, str]]:
    """The demo moderator's login of tenant ``slug``, if the demo has a forum for it."""
    return [moderator_login(slug)] if slug in FORUMS else []


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    names: dict[str, str]  # per locale
    descriptions: dict[str, str]
    colour: str
    icon: str
    parent: str | None = None
    moderated: bool = False
    staff_only: bool = False


@dataclass(frozen=True)
class DemoReply:
    author: str  # a customer's handle in ``demo_orders.CUSTOMERS``, or "moderator"
    body: str  # ``{lena}`` and the like: the forum handle of that demo member
    approved: bool = True  # in a moderated category: approved by the moderator, else pending


@dataclass(frozen=True)
class DemoTopic:
    category: str
    author: str
    locale: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    replies: tuple[DemoReply, ...] = ()
    approved: bool = True  # in a moderated category
    actions: tuple[str, ...] = ()  # moderators' actions once the replies are in: pin, close
    answer: int | None = None  # the reply its author marks as the answer


@dataclass(frozen=True)
class DemoForum:
    categories: tuple[DemoCategory, ...]
    topics: tuple[DemoTopic, ...] = field(default=())


# fmt: off
def _announcements(colour: str, en: str, de: str) -> DemoCategory:
    return DemoCategory(
        "announcements", {"en": "Announcements", "de": "Ankündigungen"}, {"en": en, "de": de},
        colour, "📣", staff_only=True,
    )


def _introductions(colour: str) -> DemoCategory:
    return DemoCategory(
        "introductions", {"en": "Introductions", "de": "Vorstellungsrunde"},
        {"en": "New here? Say hello. A moderator approves posts here before others see them.",
         "de": "Neu hier? Sagen Sie Hallo. Beiträge hier gibt die Moderation frei, bevor andere "
               "sie sehen."},
        colour, "👋", moderated=True,
    )


ACME = DemoForum(
    categories=(
        _announcements(
            "#b45309", "News about the shop and this forum, from the Acme team.",
            "Neuigkeiten zum Shop und zu diesem Forum, vom Acme-Team.",
        ),
        _introductions("#15803d"),
        DemoCategory(
            "gear-talk", {"en": "Gear talk", "de": "Ausrüstung"},
            {"en": "Tents, packs, layers and everything else you carry.",
             "de": "Zelte, Rucksäcke, Kleidung und alles andere, was Sie mitnehmen."},
            "#1d4ed8", "🎒",
        ),
        DemoCategory(
            "repairs-and-care", {"en": "Repairs & care", "de": "Reparatur & Pflege"},
            {"en": "Keep your gear going: washing, proofing, patching.",
             "de": "Damit Ihre Ausrüstung lange hält: waschen, imprägnieren, flicken."},
            "#7c3aed", "🧵", parent="gear-talk",
        ),
    ),
    topics=(
        DemoTopic(
            "announcements", "moderator", "en", "Welcome to the Acme community",
            "Hello and welcome! This is the place to talk about trails, gear and trips with "
            "other Acme customers.\n\n"
            "- Be kind and stay on topic\n"
            "- First posts in **Introductions** are checked by a moderator\n"
            "- Mention someone with @ and their handle, like @{lena}\n\n"
            "Have fun out there!",
            tags=("news",),
            replies=(
                DemoReply("claire", "Thanks, great to have a place for this!"),
                DemoReply("lena", "Danke! Ich freue mich auf den Austausch."),
            ),
            actions=("pin",),
        ),
        DemoTopic(
            "announcements", "moderator", "en", "Forum guidelines",
            "A few rules so that this stays a friendly place:\n\n"
            "1. Be respectful, even when you disagree.\n"
            "2. No spam and no advertising.\n"
            "3. Report a post that breaks these rules with its *Report* button.\n\n"
            "This topic is closed: questions are welcome in **Gear talk**.",
            tags=("news", "team"),
            actions=("close",),
        ),
        DemoTopic(
            "introductions", "lena", "de", "Hallo aus Berlin",
            "Ich bin Lena, wandere am liebsten in der Sächsischen Schweiz und habe gerade mein "
            "erstes Zelt bei Acme gekauft. Ich freue mich auf eure Tipps!",
            tags=("outdoors",),
            replies=(
                DemoReply("claire", "Welcome, Lena! Saxon Switzerland is beautiful: enjoy the "
                                    "new tent."),
                DemoReply("tobias", "Servus @{lena}! Wenn du mal in den Alpen bist, sag "
                                    "Bescheid.", approved=False),
            ),
        ),
        DemoTopic(
            "introductions", "tobias", "de", "Servus aus Wien",
            "Tobias hier, aus Wien. Ich bin viel in den Kalkalpen unterwegs, meistens mit zu "
            "viel Gepäck.",
            replies=(
                DemoReply("lena", "Willkommen, Tobias! Zu viel Gepäck kenne ich gut.",
                          approved=False),
            ),
        ),
        DemoTopic(
            "introductions", "claire", "en", "Bonjour from Paris",
            "I'm Claire. I live in Paris and escape to the Vosges whenever I can. Looking "
            "forward to learning from you all.",
            approved=False,
        ),
        DemoTopic(
            "gear-talk", "claire", "en", "Which tent for two in the Alps?",
            "A friend and I are planning a week in the Alps in July. We want something light "
            "but stable in the wind. Is the **Ridgeline 2** enough, or should we look at "
            "something sturdier?",
            tags=("outdoors", "guides"),
            replies=(
                DemoReply("tobias", "We had the Ridgeline 2 on the Stubai high trail last "
                                    "summer: stable in strong wind once it is guyed out "
                                    "properly. Take the extra pegs."),
                DemoReply("lena", "Agree with @{tobias}. Pitch it once at home before you go!"),
                DemoReply("claire", "Thank you both: Ridgeline it is."),
            ),
            answer=0,
        ),
        DemoTopic(
            "gear-talk", "lena", "de", "Merino oder Synthetik als Baselayer?",
            "Für Mehrtagestouren im Herbst: Was tragt ihr direkt auf der Haut? Merino riecht "
            "weniger, Synthetik trocknet schneller. Eure Erfahrungen?",
            tags=("outdoors",),
            replies=(
                DemoReply("tobias", "Merino, ganz klar. Auch nach drei Tagen noch tragbar."),
                DemoReply("claire", "I mix: merino on top, synthetic leggings. @{lena}, the "
                                    "merino base layer runs a little small."),
            ),
        ),
        DemoTopic(
            "repairs-and-care", "tobias", "de", "Regenjacke neu imprägnieren: wie?",
            "Meine Hardshell perlt nicht mehr ab. Waschen, Spray oder Einwaschmittel? Und hilft "
            "der Trockner wirklich?",
            tags=("guides", "sustainability"),
            replies=(
                DemoReply("moderator", "Erst mit einem Spezialwaschmittel waschen, dann bei "
                                       "niedriger Temperatur in den Trockner: Die Wärme "
                                       "reaktiviert die Imprägnierung. Erst wenn das nicht mehr "
                                       "hilft, neu imprägnieren."),
                DemoReply("lena", "Hat bei mir gut funktioniert, danke!"),
            ),
        ),
        DemoTopic(
            "gear-talk", "claire", "en", "A headlamp for winter evenings?",
            "Are 400 lumens enough for walking back from the crag after dark? Battery life in "
            "the cold matters more to me than brightness.",
            tags=("outdoors",),
            replies=(
                DemoReply("tobias", "The Headlamp 400 lasts about six hours on medium at minus 5 °C. "
                                    "Keep it in an inside pocket until you need it."),
            ),
        ),
        DemoTopic(
            "repairs-and-care", "claire", "en", "Patching a down jacket",
            "I caught my down jacket on a branch and feathers are escaping. Tape or sewing?",
            tags=("guides", "sustainability"),
            replies=(
                DemoReply("lena", "Repair tape now, and have it sewn properly once you are "
                                  "home."),
                DemoReply("tobias", "Tape lasts for years if you round its corners, @{claire}."),
            ),
        ),
    ),
)

GLOBEX = DemoForum(
    categories=(
        _announcements(
            "#9d174d", "News about the journal, the shop and this forum.",
            "Neuigkeiten zum Journal, zum Shop und zu diesem Forum.",
        ),
        _introductions("#0f766e"),
        DemoCategory(
            "reading-room", {"en": "Reading room", "de": "Lesesaal"},
            {"en": "Talk about the stories, essays and books we publish.",
             "de": "Gespräche über die Geschichten, Essays und Bücher, die wir veröffentlichen."},
            "#334155", "📚",
        ),
        DemoCategory(
            "prints-and-photography", {"en": "Prints & photography", "de": "Drucke & Fotografie"},
            {"en": "Paper, frames and light: about our prints and your own pictures.",
             "de": "Papier, Rahmen und Licht: über unsere Drucke und Ihre eigenen Bilder."},
            "#a16207", "🖼️", parent="reading-room",
        ),
    ),
    topics=(
        DemoTopic(
            "announcements", "moderator", "en", "Welcome to the Globex Journal forum",
            "Welcome, readers! Here you can talk about what we publish, share your own "
            "pictures and ask about the shop.\n\n"
            "- First posts in **Introductions** wait for a moderator\n"
            "- Mention another reader with @ and their handle, like @{maya}\n\n"
            "Happy reading.",
            tags=("news",),
            replies=(
                DemoReply("maya", "Lovely, thank you for opening this!"),
                DemoReply("noah", "Sehr schön, danke!"),
            ),
            actions=("pin",),
        ),
        DemoTopic(
            "announcements", "moderator", "en", "How this forum works",
            "1. Be kind to other readers.\n"
            "2. No spam and no advertising.\n"
            "3. Use *Report* on a post that breaks these rules.\n\n"
            "This topic is closed: start a new one in the **Reading room**.",
            tags=("news", "team"),
            actions=("close",),
        ),
        DemoTopic(
            "introductions", "maya", "en", "Hello from New York",
            "I'm Maya, I read the journal on the subway every morning and I just framed my "
            "first print from the shop.",
            replies=(
                DemoReply("olivia", "Welcome, Maya! Which print did you choose?"),
                DemoReply("noah", "Hallo @{maya}, willkommen!", approved=False),
            ),
        ),
        DemoTopic(
            "introductions", "noah", "de", "Moin aus Hamburg",
            "Ich bin Noah, lese das Journal seit der ersten Ausgabe und fotografiere gern im "
            "Hafen.",
            replies=(
                DemoReply("maya", "Welcome, Noah! I'd love to see your harbour pictures.",
                          approved=False),
            ),
        ),
        DemoTopic(
            "introductions", "olivia", "en", "A reader from London",
            "Olivia here, from London. I came for the essays and stayed for the prints.",
            approved=False,
        ),
        DemoTopic(
            "reading-room", "maya", "en", "What are you reading this month?",
            "I'm halfway through *The Long Walk* and can't put it down. What is on your "
            "nightstand?",
            tags=("guides",),
            replies=(
                DemoReply("olivia", "*Slow Mornings*, one chapter a day with coffee."),
                DemoReply("noah", "Ich lese gerade die Anthologie *Field Notes*, sehr "
                                  "empfehlenswert."),
            ),
        ),
        DemoTopic(
            "reading-room", "noah", "de", "Das Journal auf Papier?",
            "Gibt es Pläne für eine gedruckte Jahresausgabe? Ich würde sie sofort bestellen.",
            tags=("news",),
            replies=(
                DemoReply("moderator", "Wir denken darüber nach, @{noah}: Wir melden uns hier, "
                                       "sobald es Neuigkeiten gibt."),
                DemoReply("maya", "Count me in for a copy too."),
            ),
        ),
        DemoTopic(
            "prints-and-photography", "maya", "en", "Framing the Harbour at Dawn print",
            "Which frame works best for *Harbour at Dawn*? White or oak, and does it need a "
            "mount?",
            tags=("guides",),
            replies=(
                DemoReply("olivia", "Oak with a wide white mount: the paper's warm tone looks "
                                    "great against it."),
                DemoReply("noah", "Und unbedingt UV-Schutzglas nehmen."),
            ),
            answer=0,
        ),
        DemoTopic(
            "prints-and-photography", "noah", "de", "Drucke vor Sonnenlicht schützen",
            "Mein Druck hängt gegenüber einem Südfenster. Wie schnell bleichen die Farben aus?",
            tags=("guides", "sustainability"),
            replies=(
                DemoReply("moderator", "Unsere Drucke sind auf Pigmenttinte gedruckt und halten "
                                       "lange, aber direktes Sonnenlicht schadet jedem Papier. "
                                       "UV-Schutzglas hilft sehr."),
            ),
        ),
        DemoTopic(
            "reading-room", "olivia", "en", "Essays on slow living",
            "After *Slow Mornings* I'd like more essays in that spirit. Any tips, "
            "@{maya} and @{noah}?",
            tags=("sustainability",),
            replies=(
                DemoReply("maya", "Try the autumn issue's essay on walking to work."),
            ),
        ),
    ),
)
# fmt: on

FORUMS = {"acme": ACME, "globex": GLOBEX}


# -- seeding ----------------------------------------------------------------------------------


def _in_locales(values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The text in the tenant's default locale, and the others it serves that ``values`` has."""
    default, *others = content_selectors.current_locales()
    return values.get(default) or values["en"], {
        locale: values[locale] for locale in others if locale in values
    }


def seed_moderator(*, slug: str, report: SeedReport):
    """The tenant's demo moderator: staff in the Moderator group, with a public name."""
    email, password = moderator_login(slug)
    users = get_user_model()
    user = users.objects.filter(username=email).first()
    if user is None:
        user = users.objects.create_user(
            username=email, email=email, password=password, is_staff=True
        )
        user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
        people.profile_update(user_id=user.pk, display_name=MODERATORS[slug], actor=user)
        report.created.append(f"forum moderator {email}")
    else:
        report.kept.append(f"forum moderator {email}")
    return users.objects.get(pk=user.pk)  # its permissions read afresh


def _seed_categories(spec: DemoForum, report: SeedReport) -> dict[str, int]:
    ids: dict[str, int] = {}
    for position, category in enumerate(spec.categories):
        existing = forum.category_by_slug(category.slug)
        if existing is not None:
            ids[category.slug] = existing.pk
            report.kept.append(f"forum category {category.slug}")
            continue
        name, names = _in_locales(category.names)
        description, descriptions = _in_locales(category.descriptions)
        translations = {
            locale: {"name": names[locale], "description": descriptions.get(locale, "")}
            for locale in names
        }
        made = services.category_create(
            name=name, slug=category.slug, description=description, translations=translations,
            colour=category.colour, icon=category.icon, position=position,
            moderated=category.moderated,
            who_may_start="staff" if category.staff_only else "customers",
            parent_id=ids[category.parent] if category.parent else None,
        )  # fmt: skip
        ids[category.slug] = made.pk
        report.created.append(f"forum category {category.slug}")
    return ids


def _tags(wanted: tuple[str, ...]) -> list[str]:
    """The slugs of ``wanted`` the tenant has (the demo's posts made them)."""
    existing = set(forum.tags().filter(slug__in=wanted).values_list("slug", flat=True))
    return [slug for slug in wanted if slug in existing]


def _seed_topic(
    topic: DemoTopic, *, category_id: int, people_by_key: dict, handles: dict, moderator
) -> None:
    author = people_by_key[topic.author]
    made = services.topic_start(
        category_id=category_id, title=topic.title, body=topic.body.format_map(handles),
        actor=author, locale=topic.locale, tag_slugs=_tags(topic.tags),
    )  # fmt: skip
    if topic.approved and made.review == "pending":
        services.topic_moderate(topic_id=made.pk, action="approve", actor=moderator)
    replies = []
    for reply in topic.replies:
        posted = services.reply_post(
            topic_id=made.pk, body=reply.body.format_map(handles),
            actor=people_by_key[reply.author],
        )  # fmt: skip
        if reply.approved and posted.status == "pending":
            services.reply_moderate(reply_id=posted.pk, action="approve", actor=moderator)
        replies.append(posted)
    if topic.answer is not None:
        services.topic_mark_solved(
            topic_id=made.pk, reply_id=replies[topic.answer].pk, actor=author
        )
    for action in topic.actions:
        services.topic_moderate(topic_id=made.pk, action=action, actor=moderator)


def seed_forum(*, slug: str, report: SeedReport) -> None:
    """The tenant's demo forum (acme and globex only), written by its demo customers (made by
    ``demo_orders.seed_customers`` before) and its demo moderator."""
    spec = FORUMS.get(slug)
    if spec is None:
        return
    logins = [email for email, _password in customer_logins(slug)]
    customers = {
        user.username: user for user in get_user_model().objects.filter(username__in=logins)
    }
    if len(customers) < len(logins):
        report.kept.append("forum (no demo customers)")
        return
    if flag_on_for_everyone(MENTIONS):
        report.created.append(f"feature flag {MENTIONS} on for everyone")
    moderator = seed_moderator(slug=slug, report=report)
    people_by_key = {"moderator": moderator}
    for customer, login in zip(CUSTOMERS[slug], logins, strict=True):
        people_by_key[customer.handle] = customers[login]
    handles = {key: services.member_for(user).handle for key, user in people_by_key.items()}
    category_ids = _seed_categories(spec, report)
    for topic in spec.topics:
        category_id = category_ids[topic.category]
        if forum.topics(moderator).filter(category_id=category_id, title=topic.title).exists():
            report.kept.append(f"forum topic {topic.title}")
            continue
        _seed_topic(
            topic, category_id=category_id, people_by_key=people_by_key, handles=handles,
            moderator=moderator,
        )  # fmt: skip
        report.created.append(f"forum topic {topic.title}")
