"""Code the functions of this v1 app share, imported the ways the Functions docs show."""
