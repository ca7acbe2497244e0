"""Reports: text tables, JSON documents and figures built from profiles and match results."""
