"""Command-line interface: parses arguments, calls the library, prints. No computation lives here."""
