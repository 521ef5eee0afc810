"""What every part stands on: reading and writing files (files), where things live (paths), optional
extras (extras), rate-limited logs (ratelog), pacing (pacing) and the OSC wire format (oscwire)."""
