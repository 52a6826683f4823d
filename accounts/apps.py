from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.enrichment import user_plan
        from analytics.services.enrichment import Subject, enricher_register

        enricher_register(user_plan, subject=Subject.USER)

        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_browser_signed_out, dispatch_uid="accounts.browser_signed_out")


def _browser_signed_out(sender, request, user, **kwargs):
    # Sent before the session is flushed, so its key is still the one the sockets signed in with.
    if user is not None:
        from accounts.services import browser_session_ended

        browser_session_ended(user_id=user.pk, session_key=request.session.session_key)
