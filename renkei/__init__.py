"""Renkei: scheduling and records for the joint meetings of municipal welfare bodies."""

from renkei.app import create_app

__all__ = ["create_app"]
