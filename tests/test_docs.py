"""The README documents every command and every route (datasette's doc-coverage test)."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from hotline.cli import cli
from hotline.settings import Settings
from hotline.web import create_app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


@pytest.mark.parametrize("command", _commands(cli, "hotline"))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in README


def _routes() -> list[str]:
    app = create_app(Settings())
    return sorted({f"{r.method} {r.resource.canonical}" for r in app.router.routes()
                   if r.method != "HEAD" and r.resource is not None})


@pytest.mark.parametrize("route", _routes())
def test_every_route_is_in_the_readme(route: str) -> None:
    assert f"`{route}`" in README
