"""The Content-Security-Policy of Plein's pages: no script at all, except where a page needs one.

Every response gets `CONTENT_SECURITY_POLICY` unless its route set another; the few pages that
run a script (search suggestions, the API docs) load it from this origin only, never inline.
"""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'"
)
SAME_ORIGIN_SCRIPTS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
