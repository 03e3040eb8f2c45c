import sys

from org_simulator.cli import main

sys.exit(main())
