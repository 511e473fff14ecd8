"""The personal-data core: the bottom floor, imported by every app and importing none.

- ``normalize``: how ID numbers, accounts and names are folded before anything else;
- ``idnumbers``: GB 11643-1999 checks (one check-character implementation);
- ``hashing``: keyed HMAC-SHA256 hashes with a key version;
- ``masking``: masks of names, ID numbers, accounts and phones, and scrubbing of free text;
- ``personal``: the above bound to this deployment's key and masking policy (settings);
- ``logs``: logging a failure without quoting the data that caused it.

No module here imports a model or an app; only ``personal`` reads settings.
"""
