"""The Azure Functions face: DFApp/Blueprint decorators, their binding metadata, and the app loader."""

from __future__ import annotations

from durable_azure.functions.app import Blueprint, DFApp
from durable_azure.functions.loader import load_function_app
from durable_azure.functions.orchestrator import Orchestrator

__all__ = ["Blueprint", "DFApp", "Orchestrator", "load_function_app"]
