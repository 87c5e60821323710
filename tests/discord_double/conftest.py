"""Makes the `double` fixture available to the double's own tests."""

from .fixtures import double

__all__ = ["double"]
