from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("count", views.count),
    path("peek", views.peek),
    path("set", views.set_key),
    path("set-none", views.set_none),
    path("race", views.race),
    path("expiry", views.expiry),
    path("login", views.login_view),
    path("logout", views.logout_view),
    path("whoami", views.whoami),
    path("async/count", views.async_count),
    path("async/cycle", views.async_cycle),
]
