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


DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SETTINGS_SOURCE = (Path(__file__).resolve().parent.parent / "hotline" / "settings.py").read_text()


def _deploy_variables() -> list[tuple[str, str]]:
    """(file, variable) for every variable the deploy files give the app's containers (not Elasticsearch's)."""
    import yaml  # only this test reads YAML

    found = []
    for name in ("docker-compose.yml", "replicas.compose.yml"):
        services = yaml.safe_load((DEPLOY / name).read_text())["services"]
        for service, spec in services.items():
            if "build" in spec:  # the hotline image
                env = spec.get("environment") or {}
                keys = env if isinstance(env, dict) else [item.split("=", 1)[0] for item in env]
                found += [(f"{name}:{service}", key) for key in keys]
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "hotline.yaml").read_text()):
        if doc["kind"] == "ConfigMap":
            found += [("k8s ConfigMap", key) for key in doc["data"]]
        if doc["kind"] == "StatefulSet":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                found += [(f"k8s {container['name']}", e["name"]) for e in container["env"] if e["name"] != "POD_NAME"]
    return found


@pytest.mark.parametrize("where,variable", _deploy_variables())
def test_every_deploy_variable_is_a_setting(where: str, variable: str) -> None:
    assert f'"{variable}"' in SETTINGS_SOURCE, f"{where} sets {variable}, which hotline/settings.py does not read"
    assert f"`{variable}`" in README
