"""Built-in encoders: H.264, H.265 and MJPEG streams through PyAV's FFmpeg."""
