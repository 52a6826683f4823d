"""Django autodiscovers `<app>.admin`: streaming's admin pages live in its parts."""

from streaming.fans import admin as fans_admin
from streaming.live import admin as live_admin
from streaming.playback import admin as playback_admin
from streaming.viewing import admin as viewing_admin

__all__ = ["fans_admin", "live_admin", "playback_admin", "viewing_admin"]
