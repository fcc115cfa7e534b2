"""Key bindings: parsing, what a binding covers, the file's rules, and restricted vs CLI settings."""

from __future__ import annotations

import pytest

from llmops.errors import InvalidInputError, PermissionDeniedError
from llmops.security.credentials import (
    KeyNotBound,
    bindings,
    has_userinfo,
    is_bound,
    parse_bindings,
    require_bound,
)
from llmops.settings import Settings


def test_a_binding_covers_its_host_and_path_only(tmp_path):
    s = Settings(home=tmp_path, restricted=True, key_bindings="K=https://api.example.com/v1;L=http://127.0.0.1:8000")
    assert is_bound(s, "K", "https://API.example.com:443/v1/") and is_bound(s, "K", "https://api.example.com/v1/x")
    for url in ("http://api.example.com/v1", "https://api.example.com/v10", "https://api.example.com.evil/v1",
                "https://api.example.com:8443/v1", "https://evil@api.example.com/v1", "https://api.example.com/v1/../x"):
        assert not is_bound(s, "K", url), url
    assert not is_bound(s, "L", "https://api.example.com/v1") and is_bound(s, "L", "http://127.0.0.1:8000/v1")
    with pytest.raises(KeyNotBound):
        require_bound(s, "K", "http://127.0.0.1:8000/v1")
    require_bound(Settings(home=tmp_path), "K", "http://127.0.0.1:8000/v1")  # the CLI's own user decides
    with pytest.raises(InvalidInputError) as info:
        require_bound(Settings(home=tmp_path), "K", "http://u:pw-secret@h/v1")
    assert "pw-secret" not in info.value.message() and has_userinfo("u:p@h") and not has_userinfo("http://h/a@b")


def test_bindings_file_and_malformed_entries(tmp_path):
    s = Settings(home=tmp_path, key_bindings="K=https://a.example/v1")
    s.credentials_path.parent.mkdir(parents=True)
    s.credentials_path.write_text("K: https://b.example/v1\nM: [http://127.0.0.1:1/v1]\n", encoding="utf-8")
    s.credentials_path.chmod(0o600)
    assert bindings(s) == {"K": ("https://a.example/v1", "https://b.example/v1"), "M": ("http://127.0.0.1:1/v1",)}
    s.credentials_path.chmod(0o666)
    with pytest.raises(PermissionDeniedError):
        bindings(s)
    for bad in ("lower=http://h", "K=", "K=ftp://h", "K=http://u:p@h"):
        with pytest.raises(InvalidInputError):
            parse_bindings(bad)
