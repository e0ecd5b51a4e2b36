"""`hotline users add|reset|list`: accounts from the command line (the first admin comes from here)."""
from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

import click

from dashboards import service
from dashboards.accounts import ROLES
from dashboards.errors import DashboardError
from dashboards.store import AuditStore, SessionStore, UserStore

T = TypeVar("T")


class Runtime(Protocol):
    """What the root CLI hands to domain commands (hotline.cli.Runtime)."""

    def alias(self, name: str) -> str: ...

    def run_with_es(self, work: Callable[[Any], Awaitable[T]]) -> T: ...


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu"))


@click.group("users")
def users_group() -> None:
    """Dashboard users and their roles."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--name", "display_name", default="", help="Full name shown in the dashboards.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--ward", "wards", multiple=True, help="A ward the (medical) user covers, as district/ward; repeat.")
@click.pass_obj
def users_add(runtime: Runtime, username: str, role: str, display_name: str, password_stdin: bool,
              wards: tuple[str, ...]) -> None:
    """Create a user (password asked twice, or read from stdin)."""
    password = _password(password_stdin)

    async def work(es: Any) -> str:
        user = await service.add_user(username, role, password, display_name, actor=_actor(),
                                      now=datetime.now(timezone.utc), users=UserStore(es, runtime.alias("users")),
                                      audit=AuditStore(es, runtime.alias("audit")), wards=wards)
        return user.username
    try:
        click.echo(f"created {runtime.run_with_es(work)} ({role})")
    except DashboardError as err:
        raise click.ClickException(str(err)) from err


@users_group.command("reset")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@click.pass_obj
def users_reset(runtime: Runtime, username: str, password_stdin: bool) -> None:
    """Set a new password and sign the user out everywhere."""
    password = _password(password_stdin)

    async def work(es: Any) -> None:
        await service.reset_password(username, password, actor=_actor(), now=datetime.now(timezone.utc),
                                     users=UserStore(es, runtime.alias("users")),
                                     sessions=SessionStore(es, runtime.alias("sessions")),
                                     audit=AuditStore(es, runtime.alias("audit")))
    try:
        runtime.run_with_es(work)
    except DashboardError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"password of {username} reset; its sessions are closed")


@users_group.command("list")
@click.pass_obj
def users_list(runtime: Runtime) -> None:
    """Print every user with role and state."""
    async def work(es: Any) -> list[Any]:
        return await UserStore(es, runtime.alias("users")).all()
    for user in runtime.run_with_es(work):
        click.echo(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}\t{user.display_name}")
