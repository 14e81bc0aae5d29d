"""ragtui: compare RAG pipelines side by side and attribute the outcome to each component."""

__version__ = "0.1.0"
