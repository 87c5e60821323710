"""Loopback stand-ins for the outside services the bot calls: an OpenAI-compatible model and Open Library."""
