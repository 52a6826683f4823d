from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from accounts import entitlements, services
from accounts.models import (
    BillingCustomer,
    BillingEvent,
    Entitlement,
    Preferences,
    Product,
    ProductRule,
    Subscription,
    User,
    VerifiedLocation,
)


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


# --- products and entitlements --------------------------------------------------------------------


class ProductRuleInline(admin.TabularInline):
    model = ProductRule
    extra = 1


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "max_streams", "pass_days", "stripe_price_id", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "stripe_price_id"]
    inlines = [ProductRuleInline]


class EntitlementForm(forms.ModelForm):
    """Granting asks why; so does revoking (the reason goes to the entitlement's log)."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Why (kept in the log)"
    )
    revoke = forms.BooleanField(required=False, help_text="Revoke now: it stops counting at once")

    class Meta:
        model = Entitlement
        fields = ["user", "product", "starts_at", "ends_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "starts_at" in self.fields:
            self.fields["starts_at"].required = False
            self.fields["starts_at"].help_text = "Blank: now"

    def clean(self):
        cleaned = super().clean()
        adding = self.instance.pk is None
        if (adding or cleaned.get("revoke")) and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why.")
        return cleaned


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    """Staff grant a product by hand or revoke one, each with a reason (EntitlementLog)."""

    form = EntitlementForm
    list_display = ["user", "product", "source", "starts_at", "ends_at", "revoked_at"]
    list_filter = ["source", "product"]
    search_fields = ["user__email", "external_id"]
    autocomplete_fields = ["user"]
    SHOWN = ["user", "product", "source", "starts_at", "ends_at", "external_id", "revoked_at", "history"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "product", "starts_at", "ends_at", "reason"]
        return [*self.SHOWN, "revoke", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.SHOWN

    @admin.display(description="History")
    def history(self, obj):
        lines = [
            f"{entry.created_at:%Y-%m-%d %H:%M} {entry.get_action_display()} by "
            f"{entry.actor or 'the system'}: {entry.reason}"
            for entry in obj.log.select_related("actor").order_by("created_at", "id")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            granted = entitlements.entitlement_grant(
                user=data["user"],
                product=data["product"],
                actor=request.user,
                reason=data["reason"],
                starts_at=data.get("starts_at") or None,
                ends_at=data.get("ends_at"),
            )
            obj.pk = granted.pk
            obj.refresh_from_db()
        elif data.get("revoke"):
            entitlements.entitlement_revoke(entitlement=obj, actor=request.user, reason=data["reason"])

    def save_related(self, request, form, formsets, change):
        pass  # the inline log is read-only; the services wrote it

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history stays


@admin.register(VerifiedLocation)
class VerifiedLocationAdmin(admin.ModelAdmin):
    """Accounts' verified locations (blackouts use them when the CDN gives no region): what the device
    check-ins recorded, and staff's. Delete one to clear it; a location staff save is theirs (`staff`),
    counting until its `expires_at` (blank: until cleared or replaced by a check-in)."""

    list_display = ["user", "country", "subdivision", "postal_code", "source", "verified_at", "expires_at", "fresh"]
    list_filter = ["source"]
    search_fields = ["user__email", "postal_code"]
    autocomplete_fields = ["user"]
    readonly_fields = ["source", "verified_at"]

    @admin.display(boolean=True, description="counts now")
    def fresh(self, obj):
        return obj.is_fresh()

    def save_model(self, request, obj, form, change):
        obj.source = VerifiedLocation.Source.STAFF
        obj.verified_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "stripe_customer_id", "created_at"]
    search_fields = ["user__email", "stripe_customer_id"]
    autocomplete_fields = ["user"]


@admin.register(BillingEvent)
class BillingEventAdmin(admin.ModelAdmin):
    """What the billing provider told us, as received: read-only."""

    list_display = ["event_id", "type", "status", "customer_id", "created", "note"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "customer_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
