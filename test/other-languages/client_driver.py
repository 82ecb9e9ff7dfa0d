"""Calls clients/python/idpbridge_client.py for test/other-languages/recipes.test.ts.

Usage: python3 client_driver.py CALLS.json -- CALLS.json is a list of {"fn": name, "args": [...]};
prints one JSON list: per call {"result": ...} or {"error": class name, "status"?, "code"?, "message"}.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))

import idpbridge_client  # noqa: E402

with open(sys.argv[1]) as f:
    calls = json.load(f)

out = []
for call in calls:
    fn = getattr(idpbridge_client, call["fn"])
    try:
        out.append({"result": fn(*call["args"])})
    except Exception as err:  # reported, the test decides
        e = {"error": type(err).__name__, "message": str(err)}
        for attr in ("status", "code"):
            if hasattr(err, attr):
                e[attr] = getattr(err, attr)
        out.append(e)
print(json.dumps(out))
