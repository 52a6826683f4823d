from django.apps import AppConfig


class StreamingConfig(AppConfig):
    """What viewers do, in three parts: viewing/ (progress, Continue Watching, history, My List,
    playlists), live/ (gateway, chat, presence, scores) and fans/ (favorites, notifications)."""

    name = "streaming"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from csn.realtime import load
        from streaming.fans import receivers
        from streaming.live.permissions import role_groups_ensure

        receivers.subscribe()
        # Under load a process sheds viewer counts (a state: the newest replaces the rest), sends reaction
        # counts less often (summed: the one that passes carries those held back) and samples chat in
        # very large rooms; scores and play-by-play are never shed (csn.realtime.load).
        load.register("viewers", load.STATE)
        load.register("game.reactions", load.SUMMED)
        load.register("chat.message", load.SAMPLED)
        from streaming.live.studio import panels_register

        panels_register()
        # After auth's own post_migrate handler has created this app's permissions.
        post_migrate.connect(role_groups_ensure, sender=self)
