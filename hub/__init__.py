"""The hub: Plein's domain model, the services that change it, the web app and the CLI."""
