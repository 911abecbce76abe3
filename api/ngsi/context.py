"""citysense's JSON-LD `@context` (its entity types and attributes mapped to Smart Data Models' and
its own vocabulary, then the ETSI core context — the local copy the API serves), the `Link` header
that points to it, and content negotiation: `application/json` (+ Link), `application/ld+json`
(`@context` in the body), `application/geo+json` where entities are features, 406 otherwise."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from fastapi import Request

from api.ngsi import model
from api.ngsi.exceptions import NgsiError

CORE_NAME = "ngsi-ld-core-context-v1.8.jsonld"
OWN_NAME = "citysense.jsonld"
CONTEXTS = "/ngsi-ld/v1/jsonldContexts/"
ETSI_CORE = "https://uri.etsi.org/ngsi-ld/v1/" + CORE_NAME
JSON, LD, GEO = "application/json", "application/ld+json", "application/geo+json"
SDM = {"env": "https://smartdatamodels.org/dataModel.Environment/",
       "transport": "https://smartdatamodels.org/dataModel.Transportation/",
       "sdm": "https://smartdatamodels.org/", "citysense": "https://citysense.example/ns#"}
TYPE_TERMS = {"AirQualityObserved": "env:AirQualityObserved", "WeatherObserved": "env:WeatherObserved",
              "NoiseLevelObserved": "env:NoiseLevelObserved", "TrafficFlowObserved": "transport:TrafficFlowObserved",
              "WaterObserved": "citysense:WaterObserved", "Device": "sdm:Device"}
OURS = {"areaCode", "areaLevel", "intensityMotorbike", "intensityCar", "intensityTruckBus", "waterLevel",
        "floodThreshold", "floodThresholdExceeded", "riverName", "roadName", "noiseZone", "dominantPollutant"}
TRANSPORT = {"intensity", "averageVehicleSpeed", "occupancy"}


@cache
def core() -> dict:
    return json.loads(files("api.ngsi").joinpath("contexts", CORE_NAME).read_text(encoding="utf-8"))


def terms() -> dict[str, str]:
    """Each term of citysense's vocabulary and its IRI (compact, by the prefixes of SDM)."""
    out = dict(TYPE_TERMS)
    names = {a.name for _, attrs in model.DEVICE_TYPES.values() for a in attrs} | {a.name for a in model.AREA_ATTRS}
    for name in sorted(names | set(model.STATIC) - {"location"}):
        prefix = "citysense" if name in OURS else "transport" if name in TRANSPORT else "env"
        out[name] = f"{prefix}:{name}"
    out["name"] = "sdm:name"
    out["refDevice"] = {"@id": "env:refDevice", "@type": "@id"}
    return out


def base_url(request: Request) -> str:
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def context_url(request: Request) -> str:
    return base_url(request) + CONTEXTS + OWN_NAME


def own(request: Request) -> dict:
    """The context document: our terms, then the core context (last, as NGSI-LD asks; our local copy)."""
    return {"@context": [{**SDM, **terms()}, base_url(request) + CONTEXTS + CORE_NAME]}


def link(request: Request) -> str:
    return f'<{context_url(request)}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def iri(term: str) -> str:
    """A term's full IRI (by our context; the core's default vocabulary for others)."""
    value = terms().get(term)
    value = value["@id"] if isinstance(value, dict) else value
    if value is None:
        return "https://uri.etsi.org/ngsi-ld/default-context/" + term
    prefix, _, local = value.partition(":")
    return SDM[prefix] + local


def short(name: str) -> str:
    """An attribute as asked (a term, or its full IRI) to our term."""
    if "://" in name:
        return next((term for term in terms() if iri(term) == name), name)
    return name


def expand_type(name: str) -> str:
    """A type as asked (a term, or its full IRI) to our term; unknown names stay as they are."""
    for term, iri in TYPE_TERMS.items():
        prefix, _, local = iri.partition(":")
        if name in (term, SDM[prefix] + local):
            return term
    return name


def negotiate(request: Request, offered: tuple[str, ...] = (JSON, LD, GEO)) -> str:
    """The media type to answer with: the client's most preferred of `offered` (no Accept: JSON)."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return JSON
    best, best_q = None, 0.0
    for order, item in enumerate(header.split(",")):
        kind, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.lower()
        candidates = [kind] if kind in offered else [offered[0]] if kind in ("*/*", "application/*") else []
        for candidate in candidates:
            if q > best_q:
                best, best_q = candidate, q
    if best is None:
        raise NgsiError(406, "NotAcceptable", f"Accept: {header[:100]!r}; this answers {', '.join(offered)}")
    return best


def check_link(request: Request) -> None:
    """A client's own `@context` (Link header) can be honoured only when it is ours or the core: this
    broker resolves no context from the internet."""
    header = request.headers.get("link")
    if not header:
        return
    url = header.split(";")[0].strip().strip("<>")
    known = {context_url(request), base_url(request) + CONTEXTS + CORE_NAME, ETSI_CORE}
    if url not in known:
        raise NgsiError(503, "LdContextNotAvailable",
                        f"the @context {url[:200]!r} cannot be resolved here (no internet); use {context_url(request)} "
                        "or none (types and attributes may also be given as full IRIs)")
