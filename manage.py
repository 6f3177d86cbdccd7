#!/usr/bin/env python
import os
import sys

# Commands an MTA runs as a pipe transport: whatever goes wrong before they can decide (settings
# that cannot load, an unwritable var/ directory...), the answer must be EX_TEMPFAIL, so the MTA
# keeps the mail and retries; any other status makes it bounce the mail back to its sender.
MTA_PIPE_COMMANDS = {"ingest_email"}
EX_DATAERR, EX_TEMPFAIL = 65, 75

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    if sys.argv[1:2] and sys.argv[1] in MTA_PIPE_COMMANDS:
        import traceback

        try:
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        except SystemExit as exit_:
            if exit_.code not in (None, 0, EX_DATAERR, EX_TEMPFAIL):
                sys.exit(EX_TEMPFAIL)
            raise
        except BaseException:
            traceback.print_exc()
            sys.stderr.write("temporary failure, the MTA should retry later\n")
            sys.exit(EX_TEMPFAIL)
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
