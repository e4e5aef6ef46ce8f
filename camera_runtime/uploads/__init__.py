"""Uploads of pictures to FTP servers and NAS shares, with the manual's naming rules and
automatic network replenishment: ``uploader`` (targets and their workers), ``queue`` (what
waits, on disk), ``naming`` (directory structure and picture names), ``settings``."""
