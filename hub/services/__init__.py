"""The services: every change to Plein's data goes through a function here.

Services take a session, add and flush, and never commit: the edge that called them owns
the transaction (see `hub.db.session_scope`).
"""
