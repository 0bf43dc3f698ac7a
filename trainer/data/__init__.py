"""Reading labelled music: discovery, splits, decode cache and window sampling."""
