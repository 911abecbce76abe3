"""NGSI-LD (ETSI GS CIM 009), read only: the entity model, the query language, the stored rows and
the temporal representation behind api/routers/ngsi.py."""
