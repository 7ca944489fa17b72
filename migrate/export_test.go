package migrate

import "time"

// SetClock makes the cache read the time from now.
func (c *TokenCache) SetClock(now func() time.Time) { c.now = now }
