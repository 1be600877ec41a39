import sys

from ccgateway.cli import main

sys.exit(main())
