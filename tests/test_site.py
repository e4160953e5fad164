"""The site around the apps: its name, its icon."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_site_icon_which_every_admin_page_links(client: Client) -> None:
    answer = client.get("/favicon.ico")
    assert (answer.status_code, answer["Location"]) == (301, "/static/volttracker/favicon.svg")
    icon = client.get(answer["Location"])
    assert icon.status_code == 200 and b"<svg" in icon.getvalue()
    login = client.get("/admin/login/").content.decode()
    assert '<link rel="icon" href="/static/volttracker/favicon.svg" type="image/svg+xml">' in login
    assert "<title>Log in | VoltTracker</title>" in login and ">VoltTracker</a>" in login
