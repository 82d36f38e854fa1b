"""``python -m calibrate``: the command line, as ``calibrate`` (also for ``spark-submit``)."""

from calibrate.cli import main

if __name__ == "__main__":
    main()
