#!/usr/bin/env python3
"""bench/citizen.py: the demo citizen's credentials for the submission benches.

  citizen.py token URL        prints an API token (scope apply) of the demo citizen
  citizen.py web URL [ITEM]   prints "gh_sid=<session> <form token>": the citizen logged in
                              through the pages, with the form token of ITEM's apply page
                              (gsa-0001), as a browser has them
"""
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

LOGIN, PASSWORD = "13800000001", "Qinghe-demo-2026"


def token(base):
    req = urllib.request.Request(base + "/api/v1/auth/token", method="POST",
        data=json.dumps({"login": LOGIN, "password": PASSWORD, "channel": "other", "name": "bench",
                         "scopes": "apply"}).encode(),
        headers={"Content-Type": "application/json"})
    print(json.load(urllib.request.urlopen(req))["token"])


def web(base, item="gsa-0001"):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a):
            return None
    op = urllib.request.build_opener(NoRedirect)
    jar = {}

    def call(path, data=None):
        req = urllib.request.Request(base + path, data=data)
        req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
        if data:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            res = op.open(req)
        except urllib.error.HTTPError as e:
            res = e
        for h in res.headers.get_all("Set-Cookie") or []:
            k, v = h.split(";", 1)[0].split("=", 1)
            jar[k] = v
        return res.read().decode()

    def csrf(html):
        return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)

    t = csrf(call("/login"))
    call("/login", urllib.parse.urlencode({"login": LOGIN, "password": PASSWORD, "next": "", "_csrf": t}).encode())
    print("gh_sid=" + jar["gh_sid"], csrf(call("/services/" + item + "/apply")))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("token", "web"):
        sys.exit(__doc__)
    {"token": token, "web": web}[sys.argv[1]](*sys.argv[2:])
