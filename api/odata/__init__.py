"""OData v4, minimal conformance, read only: the entity sets (schema), `$filter`/`$orderby` into
parameterised SQL (filter), behind api/routers/odata.py."""
