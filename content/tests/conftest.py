import pytest
from django.contrib.auth.models import Group

from accounts.services import subscription_update
from accounts.tests.factories import UserFactory


def _member(group_name: str, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor(db):
    return _member("Editors")


@pytest.fixture
def publisher(db):
    return _member("Publishers")


@pytest.fixture
def superuser(db):
    user = UserFactory(is_staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def staff_without_role(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def viewer(db):
    return UserFactory()


@pytest.fixture
def premium_viewer(db):
    user = UserFactory()
    subscription_update(user=user, plan="premium", status="active")
    return type(user).objects.get(pk=user.pk)  # as a request would load it, without a stale cached plan


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every role fixture makes a user; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
