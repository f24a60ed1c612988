"""Development tools: the Admin API simulator, the demo and a threaded server
for any WSGI app. Nothing in the request path imports this package; a
production install needs none of it.

May import: anything in app; nothing outside app/dev imports it (tests aside).
"""
