"""One module per benchmark: dataset loader, native spec conversion, official metric."""
