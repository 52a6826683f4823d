"""Names of topics and Channels-layer groups. Each name is built by one function; apps that own a kind
of topic (live: `game:<id>`, `chat:<id>`) build theirs with `topic_name`."""

USER_TOPIC = "user"


def topic_name(kind: str, ident: int) -> str:
    """`game`, 7 -> `game:7`: what the event log and the hub call the topic."""
    return f"{kind}:{ident}"


def user_topic(user_id: int) -> str:
    """One user's private topic (their devices: notifications, progress sync, My List)."""
    return topic_name(USER_TOPIC, user_id)


def public_topic(topic: str) -> str:
    """What clients call a topic: every user's private `user:<id>` is just `user` to its owner."""
    return USER_TOPIC if topic.startswith(USER_TOPIC + ":") else topic


def user_group(user_id: int) -> str:
    """The Channels-layer group of one user's open sockets, in every process (sessions.py)."""
    return f"user.{user_id}"
