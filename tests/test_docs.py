"""The README documents every command, option, route and setting that exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from web import create_app
from web.cli import main
from web.config import DEFAULTS

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "kiosque") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += commands(command, path)
        else:
            found.append((path, command))
    return found


COMMANDS = commands(main)


@pytest.mark.parametrize("path, command", COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_and_option_is_documented(path, command):
    assert f"`{path}" in README
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert any(opt in README for opt in param.opts), f"{path} {param.opts}"


def test_every_route_is_documented(tmp_path):
    app = create_app({"INDEX_DIR": str(tmp_path)})
    routes = {re.sub(r"<(?:\w+:)?\w+>", "<id>", rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"}
    for route in routes:
        assert route in README, route


@pytest.mark.parametrize("setting", sorted(DEFAULTS))
def test_every_setting_is_documented(setting):
    assert setting in README


def test_the_python_example_prints_what_the_readme_says(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).parents[1])
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    exec(code.replace("/tmp/k", str(tmp_path / "k")), {})
    assert capsys.readouterr().out.splitlines() == expected
