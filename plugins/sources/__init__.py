"""Built-in sources: synthetic scene, video file, network camera (RTSP/HTTP), USB webcam (V4L2)."""
