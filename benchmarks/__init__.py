"""Speed benchmarks (`make bench`, `python -m ganlab bench`): ganlab vs the tutorials' textbook loop."""
