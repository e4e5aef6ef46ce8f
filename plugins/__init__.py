"""Built-in plugins of camera_runtime, installed as `camera_runtime_plugins` and loaded through the same entry points as third-party ones."""
