from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/tokens/", views.TokenListView.as_view(), name="auth-tokens"),
    path("auth/tokens/<id:token_id>/", views.TokenDetailView.as_view(), name="auth-token-detail"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/location/", views.LocationView.as_view(), name="me-location"),
    path("me/entitlements/", views.EntitlementListView.as_view(), name="me-entitlements"),
    path("billing/stripe/webhook/", views.StripeWebhookView.as_view(), name="billing-stripe-webhook"),
]
