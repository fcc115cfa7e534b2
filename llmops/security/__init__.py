"""Hardening: allowed roots for paths, API keys bound to hosts, Origin/Host checks, login, clean child environments."""
