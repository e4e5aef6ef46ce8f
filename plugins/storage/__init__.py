"""Built-in storage backends: where uploaded pictures go (FTP servers, NAS shares)."""
