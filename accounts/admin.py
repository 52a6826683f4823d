from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from accounts import services
from accounts.models import Preferences, Subscription, User


class PreferencesInline(admin.StackedInline):
    model = Preferences
    can_delete = False


class SubscriptionInline(admin.StackedInline):
    # Edited on its own admin page, which goes through the tracking service.
    model = Subscription
    can_delete = False
    readonly_fields = ["plan", "status", "current_period_end"]


class PasswordSetForm(AdminPasswordChangeForm):
    """Staff setting a password: as for the user's own change, every token and open socket is revoked."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            services.credentials_revoke(user=user, reason="password_changed")
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordSetForm
    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "subscription__plan"]
    search_fields = ["email", "display_name"]
    inlines = [PreferencesInline, SubscriptionInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "avatar_url")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "display_name", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.credentials_revoke(user=obj, reason="deactivated")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "status", "current_period_end", "updated_at"]
    list_filter = ["plan", "status"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        # The same service billing would call, so the change is tracked.
        if change:
            services.subscription_update(
                user=obj.user, plan=obj.plan, status=obj.status, current_period_end=obj.current_period_end
            )
        else:
            super().save_model(request, obj, form, change)
