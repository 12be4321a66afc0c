"""$(VAR) expansion with Kubernetes' rules."""

from __future__ import annotations

import pytest

from pykubelet.expansion import expand

VARS = {"NAME": "web", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello $(NAME)", "hello web"),
        ("$(NAME)-$(NAME)", "web-web"),
        ("$(MISSING) stays", "$(MISSING) stays"),
        ("escaped $$(NAME)", "escaped $(NAME)"),
        ("a lone $ sign", "a lone $ sign"),
        ("$NAME is not expanded", "$NAME is not expanded"),
        ("unclosed $(NAME", "unclosed $(NAME"),
        ("trailing $", "trailing $"),
        ("$(EMPTY)x", "x"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, VARS) == expected
