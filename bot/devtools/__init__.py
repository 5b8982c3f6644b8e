"""Stand-ins for remote services (Discord's API, an OpenAI-compatible server) on 127.0.0.1.

The e2e tests and `modeldesk bench --load` both drive the real bot through them; nothing in
the bot's normal run imports this package.
"""
