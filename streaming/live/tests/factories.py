"""Live roles for these tests (the shared factories are in `testing.factories`)."""

from testing.factories import member_of


def scorekeeper(**kwargs):
    return member_of("Scorekeepers", **kwargs)


def moderator(**kwargs):
    return member_of("Moderators", **kwargs)
