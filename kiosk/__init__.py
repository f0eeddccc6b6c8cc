"""Offline gallery kiosk: curated museum content in, trustworthy answers out."""

__version__ = "0.1.0"
