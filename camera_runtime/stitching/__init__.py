"""Multi-sensor devices: output modes as channels, the shared stitching hub, calibration."""
