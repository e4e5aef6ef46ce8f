"""Built-in stitchers: compose several overlapping sensors into one picture."""
