"""Built-in image stages: rotate, mirror, adjust, day/night, privacy mask, OSD, picture overlay."""
