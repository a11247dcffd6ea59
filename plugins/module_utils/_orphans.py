# -*- coding: utf-8 -*-
# Copyright: dynamic_secrets.vault contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which PostgreSQL logins created by Vault no live lease backs.

Vault's lease lookup does not return the username, so a login is matched to a lease
by time: the default username template ends with the creation time
(``v-<display>-<role>-<random>-<unix time>``), and ``VALID UNTIL`` carries the lease's
expiry (the PostgreSQL plugin's renew statement moves it along). The rules, from
the safe side (a live login must never be called an orphan):

- a login whose ``VALID UNTIL`` has passed is an orphan: Vault would have revoked it;
- a login younger than ``min_age`` is left alone (its lease may not be stored yet);
- a login whose name carries its creation time is backed when a lease was issued
  within ``tolerance`` seconds of it;
- a login without one is backed when a lease expires within ``tolerance`` seconds of
  its ``VALID UNTIL``; without either it cannot be judged and is only reported.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

_CREATED = re.compile(r"-(\d{10})$")
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text):
    """Vault's RFC 3339 time (nanoseconds, any offset) -> seconds since the epoch (float)."""
    if not text:
        return None
    value = str(text).strip().replace("Z", "+00:00")
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6], value, count=1)
    return datetime.datetime.fromisoformat(value).timestamp()


def created_at(username):
    """The creation time the default username template writes at the end, or None."""
    match = _CREATED.search(username)
    return int(match.group(1)) if match else None


def judge(logins, leases, now, tolerance=5, min_age=60):
    """Sort logins into orphans, backed and undecided.

    logins  [{"username", "valid_until" (epoch seconds or None)}]
    leases  [{"lease_id", "issue_time", "expire_time"}] (epoch seconds)
    Returns (orphans, backed, undecided); each orphan/undecided has a ``reason``.
    """
    issued = [lease["issue_time"] for lease in leases if lease.get("issue_time") is not None]
    expiring = [lease["expire_time"] for lease in leases if lease.get("expire_time") is not None]
    orphans, backed, undecided = [], [], []
    for login in logins:
        name, valid_until = login["username"], login.get("valid_until")
        created = created_at(name)
        entry = dict(username=name, valid_until=valid_until, created=created)
        if valid_until is not None and valid_until < now - tolerance:
            orphans.append(dict(entry, reason="its VALID UNTIL has passed, so Vault should have revoked it"))
        elif created is not None and now - created < min_age:
            undecided.append(dict(entry, reason="created less than %ss ago" % min_age))
        elif created is not None:
            if any(abs(t - created) <= tolerance for t in issued):
                backed.append(entry)
            else:
                orphans.append(dict(entry, reason="no lease was issued when it was created"))
        elif valid_until is not None:
            if any(abs(t - valid_until) <= tolerance for t in expiring):
                backed.append(entry)
            else:
                orphans.append(dict(entry, reason="no lease expires when it does"))
        else:
            undecided.append(dict(entry, reason="its name holds no creation time and it has no VALID UNTIL"))
    return orphans, backed, undecided
