"""The plan presented: plain text, the HTML report, the provenance pictures in DOT."""
