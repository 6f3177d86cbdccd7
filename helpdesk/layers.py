"""Channel layer tweaks for the embedded default."""

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """Channels' in-memory layer scans every channel and group for expired entries on every
    send and receive: O(connections) per message. With a thousand chat visitors on one process
    that scan was the largest cost of a message; expiry is measured in seconds and days, so
    scanning once a second loses nothing."""

    _last_clean = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._last_clean >= 1.0:
            self._last_clean = now
            super()._clean_expired()
