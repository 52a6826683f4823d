"""The realtime transport: topic names, the event log, publish, the per-process hub, replay, and the
per-user Channels-layer group. It knows topics and seqs, not games or chat (docs/architecture.md)."""
