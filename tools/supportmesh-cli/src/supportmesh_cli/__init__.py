"""The supportmesh-cli package."""
