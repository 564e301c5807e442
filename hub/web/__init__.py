"""The web layer: a thin edge over the services. Pages in `pages`, the JSON API in `api`."""
