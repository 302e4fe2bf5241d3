"""`python -m bench`: the benchmarks of bench/README.md (make bench runs it with --profile quick)."""

import sys

from bench.run import main

sys.exit(main())
