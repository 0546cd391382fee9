"""Teaching content: the files in content/, matching free text to them, and the replies built from them."""
