"""The browser's sign-in and sign-out pages (any account, not only staff): Django's own auth views.

`?next=` is followed only to this site (Django's `url_has_allowed_host_and_scheme`); anything else lands
on the home page. Signing out is a POST (Django's LogoutView); it closes the sockets the session opened
(accounts.apps: `user_logged_out`). Sign-in attempts are throttled per client address like the API's
`POST /api/v1/auth/token/` (the `login` rate).
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

from csn.api.throttling import ScopedRateThrottle


class SignInForm(AuthenticationForm):
    """Email and password; emails are stored lower-case, so the address is matched whatever its case."""

    error_messages = {**AuthenticationForm.error_messages, "invalid_login": "Wrong email or password."}

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    next_page = "home"
    throttle_scope = "login"  # read by ScopedRateThrottle, which fails open while Redis is down

    def post(self, request, *args, **kwargs):
        throttle = ScopedRateThrottle()
        if not throttle.allow_request(request, self):
            context = self.get_context_data(
                form=self.authentication_form(request),  # unbound: a refused attempt checks no password
                refusal="Too many sign-in attempts from here. Try again in a minute.",
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(int(throttle.wait() or 60))
            return response
        return super().post(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    next_page = "home"
