import streaming.live_admin  # noqa: F401  (live: game events, chat moderation, sessions)
