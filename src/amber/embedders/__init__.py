"""Embedder adapters: the builtin ONNX MiniLM and Ollama."""
