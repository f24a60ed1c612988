"""Ops: what the merchant runs from a shell: `cli` (the `flask` commands),
`doctor` (checks the settings, the database and the shop), `app_toml` (the
shopify.app.toml of this receiver).

May import: everything in app but dev. Nothing in app imports ops but the
application factory (app/__init__.py), which registers the commands.
"""
