"""The sessions app: ``INSTALLED_APPS += ["sessionward.integrations.django.sessions"]``.

It registers the system checks, provides ``manage.py clearsessions`` (also without
``django.contrib.sessions``) and two pages (include its ``urls`` module): users' "active
sessions" page and a staff page to see and revoke any user's sessions.
"""
