"""Deployment files: the systemd unit, the install target, the compose file."""
