#!/usr/bin/env python3
"""A stand-in for a person at a browser, for scripts and CI: signs in and allows.

Usage: ROBOT_USERNAME=alice ROBOT_PASSWORD='a long password' signin-robot.py URL

It opens URL (an authorization URL of a Gatehouse server), fills the sign-in form with
ROBOT_USERNAME and ROBOT_PASSWORD (and ROBOT_TENANT when the form asks for a tenant),
presses Allow on the consent page and follows the redirect to the client's redirect URI, as
a browser would. Use it as BROWSER for `gatehouse perform authorization-code`. Only the
Python standard library is needed.
"""

import html.parser
import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class Forms(html.parser.HTMLParser):
    """The forms of a page: their action and the values of their named fields."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value") or "")


def forms_of(body):
    parser = Forms()
    parser.feed(body)
    return parser.forms


def origin(address):
    parts = urllib.parse.urlsplit(address)
    return (parts.scheme, parts.netloc)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    username = os.environ.get("ROBOT_USERNAME")
    password = os.environ.get("ROBOT_PASSWORD")
    if not username or not password:
        sys.exit("signin-robot: set ROBOT_USERNAME and ROBOT_PASSWORD")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    url = sys.argv[1]
    response = opener.open(url, timeout=30)
    # Sign in, then allow, for at most a few pages: anything else is a failure to report.
    for _ in range(4):
        page = response.read().decode("utf-8", "replace")
        forms = forms_of(page)
        form = next((f for f in forms if "password" in f["fields"]), None)
        if form is not None:
            form["fields"].update(username=username, password=password)
            if "tenant" in form["fields"] and os.environ.get("ROBOT_TENANT"):
                form["fields"]["tenant"] = os.environ["ROBOT_TENANT"]
        else:
            form = next((f for f in forms if "decision" in f["fields"]), None)
            if form is None:
                if origin(response.geturl()) == origin(url):
                    sys.exit(f"signin-robot: the server answered a page without a form: {page[:500]}")
                # The redirect URI answered (the client's listener): done.
                return
            form["fields"]["decision"] = "allow"
        action = urllib.parse.urljoin(response.geturl(), form["action"])
        data = urllib.parse.urlencode(form["fields"]).encode()
        try:
            response = opener.open(action, data=data, timeout=30)
        except urllib.error.HTTPError as e:
            sys.exit(f"signin-robot: {action} answered {e.code}: {e.read()[:500]!r}")
    sys.exit("signin-robot: still no redirect after signing in and allowing")


if __name__ == "__main__":
    main()
