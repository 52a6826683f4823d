import pytest

from streaming.viewing.tests.factories import watched
from testing.factories import ContentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["watchprogress", "mylistitem", "playlist"])
def test_support_staff_can_read_viewer_state_but_not_add(client, model):
    admin = UserFactory(is_staff=True)
    admin.is_superuser = True
    admin.save()
    watched(admin, ContentFactory())
    client.force_login(admin)

    assert client.get(f"/admin/streaming/{model}/").status_code == 200
    assert client.get(f"/admin/streaming/{model}/add/").status_code == 403
