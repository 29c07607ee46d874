"""The warm daemon: its wire protocol, the client front ends use, and the server."""
