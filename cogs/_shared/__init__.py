"""Discord-side helpers shared by the cogs (not an extension: the loader skips names starting with `_`)."""
