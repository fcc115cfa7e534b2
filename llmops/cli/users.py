"""`users add NAME`: store a login (salted scrypt hash) for serving beyond loopback."""

from __future__ import annotations

import getpass
import sys

from ..i18n import t
from ..security.auth import UserStore
from ..settings import Settings


def register(sub) -> None:
    """Add the `users` command group."""
    users = sub.add_parser("users", help="logins for serving beyond 127.0.0.1")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add or replace a user; the password is read from stdin or a prompt")
    add.add_argument("name")
    add.set_defaults(handler=_add)


def _add(settings: Settings, args) -> int:
    # A pipe gives the password on its first line; a terminal asks twice without echo.
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    path = UserStore(settings).add(args.name, password)
    print(t("sec.user_added", settings.lang, name=args.name, path=path))
    return 0
