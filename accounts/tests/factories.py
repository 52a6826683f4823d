import factory

from accounts import services
from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    """Users made through the same service as registration, so they have every row a real one has."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Viewer {n}")
    password = "correct horse battery staple"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        is_staff = kwargs.pop("is_staff", False)
        return services.user_create(
            email=kwargs["email"], password=kwargs["password"], display_name=kwargs["display_name"], is_staff=is_staff
        )
