"""The pages a person opens: log in, register and chat, on Aura's own origin.

The pages hold no data of their own: their script talks to the same JSON API as the original
SPA did. Handlers only decide who may see which page.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from aura import __version__, resource_path
from aura.accounts import service
from aura.accounts.service import User
from aura.accounts.sessions import session_user_id
from aura.web.headers import SecurityHeaders

STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"
CHAT_PAGE = "/chat"
LOGIN_PAGE = "/login"


async def _logged_in_user(request: Request) -> User | None:
    """The session's user, or None; a session whose user was deleted counts as logged out."""
    user_id = session_user_id(request)
    if user_id is None:
        return None
    return await service.find_user(request.app.state.engine, user_id, with_avatar=False)


def _page(name: str, **context) -> Template:
    return Template(template_name=name, context={"version": __version__, **context})


@get("/", name="home")
async def home(request: Request) -> Redirect:
    """The chat for a logged-in visitor, the login page for anyone else."""
    user = await _logged_in_user(request)
    return Redirect(CHAT_PAGE if user else LOGIN_PAGE)


@get(LOGIN_PAGE, name="login")
async def login_page(request: Request) -> Template | Redirect:
    if await _logged_in_user(request):
        return Redirect(CHAT_PAGE)
    return _page("login.html", title="Log in")


@get("/register", name="register")
async def register_page(request: Request) -> Template | Redirect:
    if await _logged_in_user(request):
        return Redirect(CHAT_PAGE)
    return _page("register.html", title="Create an account")


@get(CHAT_PAGE, name="chat")
async def chat_page(request: Request) -> Template | Redirect:
    user = await _logged_in_user(request)
    if user is None:
        return Redirect(LOGIN_PAGE)
    return _page("chat.html", title="Chat", user=user)


def web_routers() -> list[Router]:
    """The pages and their static files, each response carrying the security headers."""
    pages = Router(
        path="/",
        route_handlers=[home, login_page, register_page, chat_page],
        middleware=[SecurityHeaders()],
        # Pages name the logged-in user: never keep them in a shared or back-button cache.
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIRECTORY], middleware=[SecurityHeaders()],
        cache_control=CacheControlHeader(no_cache=True),
    )
    return [pages, static]


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=resource_path("templates"), engine=JinjaTemplateEngine)
