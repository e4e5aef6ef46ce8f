"""Linkage (manual chapter 8, the Hik-Connect linkage rules): rules tie a source's triggering
event to linkage actions on linked resources; resources outside the runtime are plugins."""
