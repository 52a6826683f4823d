from streaming.tests.fixtures import _fast_password_hashing, other_client, other_user, published  # noqa: F401
