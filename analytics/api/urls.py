from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/events/", views.EventIntakeView.as_view(), name="analytics-events"),
]
