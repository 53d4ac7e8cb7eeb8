"""``api_key create|list|revoke --tenant <slug>``: a tenant's API keys from the shell.

``create`` prints the secret once (only its SHA-256 is kept); ``revoke`` names the key by its
prefix (what ``list`` and the admin show). Every write goes through ``apps.people.services``.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.context import Actor
from apps.people import selectors, services
from apps.people.errors import ApiKeyInvalid
from apps.tenancy.selectors import tenant_list

ACTOR = Actor.system("api_key command")


class Command(BaseCommand):
    help = "Create, list and revoke a tenant's API keys."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="make a key and print its secret once")
        create.add_argument("--tenant", required=True, help="tenant slug")
        create.add_argument("--owner", required=True, help="the owner's login (a staff user)")
        create.add_argument("--name", required=True)
        create.add_argument("--kind", choices=["secret", "publishable"], default="secret")
        create.add_argument(
            "--scope", action="append", default=[], dest="scopes", help="repeat for each scope"
        )
        create.add_argument("--expires", help="expiry, ISO 8601 (e.g. 2027-01-31T00:00:00Z)")
        revoke = commands.add_parser("revoke", help="revoke a key")
        revoke.add_argument("--tenant", required=True, help="tenant slug")
        revoke.add_argument("--prefix", required=True, help="the key's prefix (sk_live_abcd1234)")
        listing = commands.add_parser("list", help="list the keys (never their secrets)")
        listing.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args, **options):
        tenant = next((t for t in tenant_list() if t.slug == options["tenant"]), None)
        if tenant is None:
            raise CommandError(f"no tenant '{options['tenant']}'")
        with schema_context(tenant.schema_name):
            getattr(self, f"_{options['action']}")(options)

    def _create(self, options):
        owner = get_user_model().objects.filter(username__iexact=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user '{options['owner']}'")
        expires_at = None
        if options["expires"]:
            try:
                expires_at = datetime.fromisoformat(options["expires"])
            except ValueError:
                raise CommandError(f"not an ISO 8601 time: '{options['expires']}'") from None
            if timezone.is_naive(expires_at):
                expires_at = timezone.make_aware(expires_at)
        try:
            key, secret = services.api_key_create(
                owner_id=owner.pk,
                name=options["name"],
                kind=options["kind"],
                scopes=options["scopes"],
                expires_at=expires_at,
                actor=ACTOR,
            )
        except ApiKeyInvalid as refused:
            raise CommandError(str(refused)) from None
        self.stderr.write(f"Made {key.prefix} ({key.name}); its secret, shown this once:")
        self.stdout.write(secret)

    def _revoke(self, options):
        key = selectors.api_keys().filter(prefix=options["prefix"]).first()
        if key is None:
            raise CommandError(f"no key '{options['prefix']}'")
        services.api_key_revoke(key_id=key.pk, actor=ACTOR)
        self.stdout.write(f"Revoked {key.prefix} ({key.name})")

    def _list(self, options):
        now = timezone.now()
        for key in selectors.api_keys():
            state = "active"
            if key.revoked_at:
                state = "revoked"
            elif key.expires_at and key.expires_at <= now:
                state = "expired"
            self.stdout.write(
                "\t".join(
                    [
                        key.prefix,
                        key.kind,
                        ",".join(key.scopes) or "-",
                        key.owner.get_username(),
                        state,
                        key.last_used_at.isoformat() if key.last_used_at else "never",
                        key.expires_at.isoformat() if key.expires_at else "never",
                        key.name,
                    ]
                )
            )
