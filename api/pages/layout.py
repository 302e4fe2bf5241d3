"""What every HTML page is rendered with: the templates, the language of a request and the link to the other one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.pages.words import pick_language, translator

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# The status pages and the contracts dashboard refuse a `lang` other than en or fr (422)...
Lang = Annotated[str | None, Query(pattern="^(en|fr)$")]
# ...the statement, service and catalogue pages let the Accept-Language header decide instead.
LangQuery = Annotated[str | None, Query()]


def page(request: Request, name: str, lang: str | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A template in the request's language, with the words, and the URL of the same page in the other language."""
    language = pick_language(lang, request.headers.get("accept-language"))
    other = "fr" if language == "en" else "en"
    query = {k: v for k, v in request.query_params.items() if k != "lang"} | {"lang": other}
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": language,
            "t": translator(language),
            "switch_url": f"{request.url.path}?{urlencode(query)}",
            **context,
        },
        status_code=status_code,
        headers={"Content-Language": language},
    )
