"""factory-boy factories shared by the test suite. Create inside the tenant schema you mean."""

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.SelfAttribute("email")
    password = factory.django.Password("pw-user-123")
    is_staff = False


class StaffFactory(UserFactory):
    is_staff = True
