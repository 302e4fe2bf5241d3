"""Event schemas for integrators: the JSON Schema of each event, the AsyncAPI document, a bilingual catalogue page.

- `GET /v1/schemas`: every CloudEvents type with its event type, schema version, stream family, Kafka
  topic and schema URL (the `ce_dataschema` of its records).
- `GET /v1/schemas/{ce_type}.json`: one JSON Schema (`application/schema+json`), the very text committed
  in events/publishing/schemas/; an unknown type is a 404 problem+json `unknown_event_type`.
- `GET /asyncapi.json`: the AsyncAPI 3.0.0 document, with this deployment's topic prefix, Kafka bootstrap
  servers (a placeholder server when there is no Kafka) and public URL.
- `GET /events/catalogue`: the same, for people, in English or French (`?lang=`, else Accept-Language).

All public, no API key: they describe the shapes of the events, never their data. Everything comes from
`events.publishing.json_schemas`; the examples are the ones committed in events/publishing/schemas/examples/.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.app.access import DECLARE_PUBLIC, App, LedgerRoute
from api.app.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from api.app.problems import Problem
from api.pages.layout import LangQuery, page
from api.pages.words import Language, pick_language, translator
from events.publishing.asyncapi import asyncapi_document as build_asyncapi_document
from events.publishing.cloud_events import dataschema, source, topic_for
from events.publishing.json_schemas import dump, dump_example, entries, load_examples, schema

SCHEMA_MEDIA_TYPE = "application/schema+json"
router = APIRouter(tags=["event schemas"], route_class=LedgerRoute, dependencies=DECLARE_PUBLIC)


class SchemaEntry(BaseModel):
    ce_type: str = Field(description="CloudEvents type: ca.orderledger.<stream type>.<fact>.v<schema version>")
    event_type: str
    schema_version: int
    stream_type: str = Field(description="the stream family; one Kafka topic each")
    topic: str = Field(description="the Kafka topic its records are published to")
    schema_url: str = Field(description="the JSON Schema of its data: the `ce_dataschema` of its records")


class SchemaList(BaseModel):
    schemas: list[SchemaEntry]
    asyncapi_url: str
    catalogue_url: str


@cache
def _examples() -> dict[str, dict[str, Any]]:
    return load_examples()


@router.get("/v1/schemas", summary="Every event type: its CloudEvents type, topic and JSON Schema URL (public)")
def list_schemas(app: App) -> SchemaList:
    settings = app.settings
    base = settings.public_url.rstrip("/")
    return SchemaList(
        schemas=[
            SchemaEntry(
                ce_type=e.ce_type,
                event_type=e.event_type,
                schema_version=e.schema_version,
                stream_type=e.stream_type,
                topic=topic_for(settings.topic_prefix, e.stream_type),
                schema_url=dataschema(base, e.ce_type),
            )
            for e in entries()
        ],
        asyncapi_url=f"{base}/asyncapi.json",
        catalogue_url=f"{base}/events/catalogue",
    )


@router.get(
    "/v1/schemas/{ce_type}.json",
    summary="The JSON Schema (draft 2020-12) of one event type's data (public)",
    response_class=Response,
    responses={
        200: {"description": "The JSON Schema", "content": {SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}}},
        404: {"description": "No such CloudEvents type", "content": {PROBLEM_MEDIA_TYPE: {}}},
    },
)
def get_schema(ce_type: Annotated[str, Path(max_length=200)]) -> Response:
    found = schema(ce_type)
    if found is None:
        raise Problem(
            404,
            "unknown_event_type",
            f"no event schema for the CloudEvents type {ce_type[:200]!r}; GET /v1/schemas lists them",
        )
    return Response(dump(found), media_type=SCHEMA_MEDIA_TYPE)


@router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3.0.0 document of the Kafka topics and events (public)",
    response_class=JSONResponse,
    responses={200: {"description": "The AsyncAPI document", "content": {"application/json": {}}}},
)
def asyncapi_json(app: App) -> Response:
    settings = app.settings
    kafka = settings.kafka_bootstrap
    text = _asyncapi_text(
        settings.public_url,
        settings.topic_prefix,
        kafka,
        settings.topic_partitions if kafka else None,
        settings.topic_replication if kafka else None,
    )
    return Response(text, media_type="application/json")


@lru_cache(maxsize=8)
def _asyncapi_text(
    public_url: str, prefix: str, bootstrap: str | None, partitions: int | None, replicas: int | None
) -> str:
    """The document as served: the same settings give the same text, so it is built once."""
    document = build_asyncapi_document(
        public_url=public_url,
        prefix=prefix,
        bootstrap=bootstrap,
        partitions=partitions,
        replicas=replicas,
        examples=_examples(),
    )
    return dump(document)


# ---------------------------------------------------------------- the page


def _families(language: Language, prefix: str) -> list[dict[str, Any]]:
    """Each stream family with its event types: family texts from api.pages.words (their English is the one of
    events.publishing.json_schemas.FAMILIES); a type's description is its model's in English, its family's in French."""
    t = translator(language)
    examples = _examples()
    found = []
    for stream_type in dict.fromkeys(e.stream_type for e in entries()):
        types = [
            {
                "ce_type": e.ce_type,
                "event_type": e.event_type,
                "schema_version": e.schema_version,
                "description": t(f"evc_fact_{stream_type}") if language == "fr" else e.description,
                "schema_path": e.path,
                "example": dump_example(examples[e.ce_type]) if e.ce_type in examples else None,
            }
            for e in entries()
            if e.stream_type == stream_type
        ]
        found.append(
            {
                "stream_type": stream_type,
                "title": t(f"evc_family_{stream_type}"),
                "description": t(f"evc_family_{stream_type}_desc"),
                "stream_id": t(f"evc_key_{stream_type}"),
                "topic": topic_for(prefix, stream_type),
                "source": source(stream_type),
                "types": types,
            }
        )
    return found


@router.get("/events/catalogue", response_class=HTMLResponse, include_in_schema=False)
def catalogue_page(request: Request, app: App, lang: LangQuery = None) -> HTMLResponse:
    language = pick_language(lang, request.headers.get("accept-language"))
    families = _families(language, app.settings.topic_prefix)
    return page(
        request,
        "event_catalogue.html",
        lang,
        families=families,
        count=sum(len(f["types"]) for f in families),
    )
