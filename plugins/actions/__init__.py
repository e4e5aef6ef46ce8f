"""Built-in linkage actions: the camera channel's, and the linked resources outside the runtime
(alarm outputs and inputs, panel areas, doors, door stations...) reached over MQTT or HTTP."""
