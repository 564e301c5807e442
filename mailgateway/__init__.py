"""Mail in: the SMTP server, parsing of real-world mail, reply trimming and address routing.

This package knows mail and nothing of the web, the database or the search index. It talks
to the rest of Plein through the small `mailgateway.smtp.InboundSink` interface.
"""
