"""A minimal Django project whose sessions live in Sessiond (SESSION_ENGINE =
"sessiond_client.django"), for tests/test_django.py."""
