"""Recording: a channel's packets remuxed into crash-safe MPEG-TS segments (``recorder``), the
pre-record ring they start from (``ring``), and the SQLite index of segments and clips with its
start-up recovery (``index``). See ``docs/recording.md``."""
